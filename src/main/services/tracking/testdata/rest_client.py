"""A tracking client that uses only MLflow's REST API 2.0 through urllib (no mlflow package).

Reads MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN like MLflow does; prints one JSON summary line.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

URI = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
RUNS = int(os.environ.get("RUNS", "20"))
STEPS = int(os.environ.get("STEPS", "1000"))


def call(method, endpoint, body=None, query=None):
    url = f"{URI}/api/2.0/mlflow/{endpoint}"
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {endpoint} -> {e.code} {e.read().decode()}")


def put_artifact(path, payload):
    url = f"{URI}/api/2.0/mlflow-artifacts/artifacts/{urllib.parse.quote(path)}"
    req = urllib.request.Request(url, data=payload, method="PUT", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200, r.status


exp_id = call("POST", "experiments/create", {"name": "urllib-demo", "tags": [{"key": "client", "value": "urllib"}]})["experiment_id"]
now = int(time.time() * 1000)
run_ids = []
for i in range(RUNS):
    run = call("POST", "runs/create", {"experiment_id": exp_id, "run_name": f"trial-{i}", "start_time": now + i, "user_id": "py"})["run"]
    rid = run["info"]["run_id"]
    run_ids.append(rid)
    call("POST", "runs/log-batch", {
        "run_id": rid,
        "params": [{"key": "lr", "value": str(0.001 * (i + 1))}, {"key": "model", "value": "rf" if i % 2 else "mlp"}],
        "tags": [{"key": "mlflow.source.name", "value": "rest_client.py"}],
    })
    for start in range(0, STEPS, 1000):
        metrics = [{"key": "loss", "value": 1.0 / (s + 1) + i, "timestamp": now + s, "step": s} for s in range(start, min(start + 1000, STEPS))]
        call("POST", "runs/log-batch", {"run_id": rid, "metrics": metrics})
    call("POST", "runs/log-metric", {"run_id": rid, "key": "acc", "value": 0.5 + i / 100, "timestamp": now, "step": 0})
    art = run["info"]["artifact_uri"]
    assert art.startswith("mlflow-artifacts:/"), art
    put_artifact(art[len("mlflow-artifacts:/"):] + "/report.txt", f"run {i}\n".encode())
    call("POST", "runs/update", {"run_id": rid, "status": "FINISHED", "end_time": now + STEPS})

found = []
token = None
while True:
    body = {"experiment_ids": [exp_id], "filter": "metrics.acc >= 0.5 and attributes.status = 'FINISHED'", "order_by": ["metrics.acc DESC"], "max_results": 7}
    if token:
        body["page_token"] = token
    page = call("POST", "runs/search", body)
    found += page.get("runs", [])
    token = page.get("next_page_token")
    if not token:
        break

history = []
token = None
while True:
    q = {"run_id": run_ids[0], "metric_key": "loss", "max_results": 400}
    if token:
        q["page_token"] = token
    page = call("GET", "metrics/get-history", query=q)
    history += page.get("metrics", [])
    token = page.get("next_page_token")
    if not token:
        break

files = call("GET", "artifacts/list", query={"run_id": run_ids[-1]})["files"]
rf = call("POST", "runs/search", {"experiment_ids": [exp_id], "filter": "params.model = 'rf'"})["runs"]
print(json.dumps({
    "experiment_id": exp_id,
    "runs": len(found),
    "first": found[0]["info"]["run_name"],
    "params_per_run": min(len(r["data"]["params"]) for r in found),
    "history": len(history),
    "steps_in_order": [m["step"] for m in history] == list(range(STEPS)),
    "artifacts": [f["path"] for f in files],
    "rf": len(rf),
}))
sys.stdout.flush()
