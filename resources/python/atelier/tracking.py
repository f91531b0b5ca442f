"""A minimal MLflow tracking client over the REST API (urllib only), for interpreters without `mlflow`.

    import atelier.tracking as at
    with at.start_run(experiment_name="fraud", run_name="rf-1") as run:
        at.log_params({"n_estimators": 200})
        at.log_metrics({"accuracy": 0.93})
        am.log_model(model, "model")          # atelier.models logs into the active run

The server is MLFLOW_TRACKING_URI (MLFLOW_TRACKING_TOKEN as a bearer token). A run started here is the
active run: it sets MLFLOW_RUN_ID for this process until it ends.
"""

import os
import time

from .models import MlflowRestError, _Client

__all__ = ["start_run", "end_run", "active_run_id", "log_metric", "log_metrics", "log_param", "log_params", "set_tag", "Run"]

_active = []


def _now_ms():
    return int(time.time() * 1000)


class Run:
    def __init__(self, client, run_id, experiment_id, previous_env):
        self._client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self._previous_env = previous_env

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        end_run("FAILED" if exc_type else "FINISHED")
        return False


def _experiment_id(client, experiment_name):
    if experiment_name is None:
        return os.environ.get("MLFLOW_EXPERIMENT_ID", "0")
    try:
        got = client.api("GET", "experiments/get-by-name", query={"experiment_name": experiment_name})
        return got["experiment"]["experiment_id"]
    except MlflowRestError as e:
        if e.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    return client.api("POST", "experiments/create", body={"name": experiment_name})["experiment_id"]


def start_run(experiment_name=None, run_name=None, tags=None):
    """Creates a run and makes it the active one (MLFLOW_RUN_ID). Usable as a context manager."""
    client = _Client()
    experiment_id = _experiment_id(client, experiment_name)
    body = {"experiment_id": experiment_id, "start_time": _now_ms(), "tags": [{"key": k, "value": str(v)} for k, v in (tags or {}).items()]}
    if run_name:
        body["run_name"] = run_name
    info = client.api("POST", "runs/create", body=body)["run"]["info"]
    run = Run(client, info["run_id"], experiment_id, os.environ.get("MLFLOW_RUN_ID"))
    os.environ["MLFLOW_RUN_ID"] = run.run_id
    _active.append(run)
    return run


def active_run_id():
    return _active[-1].run_id if _active else os.environ.get("MLFLOW_RUN_ID")


def _run_id():
    rid = active_run_id()
    if not rid:
        raise RuntimeError("no active run: call atelier.tracking.start_run() or set MLFLOW_RUN_ID")
    return rid


def end_run(status="FINISHED"):
    """Ends the active run started with start_run (status FINISHED, FAILED or KILLED)."""
    if not _active:
        return
    run = _active.pop()
    run._client.api("POST", "runs/update", body={"run_id": run.run_id, "status": status, "end_time": _now_ms()})
    if run._previous_env is None:
        os.environ.pop("MLFLOW_RUN_ID", None)
    else:
        os.environ["MLFLOW_RUN_ID"] = run._previous_env


def log_metrics(metrics, step=0):
    ts = _now_ms()
    items = [{"key": k, "value": float(v), "timestamp": ts, "step": int(step)} for k, v in metrics.items()]
    _Client().api("POST", "runs/log-batch", body={"run_id": _run_id(), "metrics": items})


def log_metric(key, value, step=0):
    log_metrics({key: value}, step=step)


def log_params(params):
    items = [{"key": k, "value": str(v)} for k, v in params.items()]
    _Client().api("POST", "runs/log-batch", body={"run_id": _run_id(), "params": items})


def log_param(key, value):
    log_params({key: value})


def set_tag(key, value):
    _Client().api("POST", "runs/set-tag", body={"run_id": _run_id(), "key": key, "value": str(value)})
