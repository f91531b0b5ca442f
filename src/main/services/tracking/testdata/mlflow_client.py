"""The real `mlflow` client against Atelier: only MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN are set."""
import json
import os
import tempfile

import mlflow
from mlflow.tracking import MlflowClient

mlflow.set_experiment("mlflow-client")
with mlflow.start_run(run_name="real-client") as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"model": "rf", "depth": 7})
    for step in range(50):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.93, "f1": 0.88})
    mlflow.set_tag("team", "atelier")
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "notes.txt")
        with open(p, "w") as f:
            f.write("hello from mlflow")
        mlflow.log_artifact(p)
        mlflow.log_artifact(p, artifact_path="sub")
    run_id = run.info.run_id

client = MlflowClient()
r = client.get_run(run_id)
runs = mlflow.search_runs(filter_string="metrics.acc > 0.9 and params.model = 'rf'", output_format="list", search_all_experiments=True)
history = client.get_metric_history(run_id, "loss")
artifacts = sorted(a.path for a in client.list_artifacts(run_id))
local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes.txt")
print(json.dumps({
    "status": r.info.status,
    "params": r.data.params,
    "metrics": sorted(r.data.metrics),
    "tags_team": r.data.tags.get("team"),
    "search": [x.info.run_id for x in runs],
    "run_id": run_id,
    "history": len(history),
    "artifacts": artifacts,
    "downloaded": open(local).read(),
}))
