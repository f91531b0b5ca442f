"""Minimal MLflow-compatible tracking for scripts without the ``mlflow`` package (kernels and jobs).

    import atelier.tracking as at
    with at.start_run(experiment_name="fraud", run_name="rf-1") as run:   # a job already has MLFLOW_RUN_ID
        at.log_params({"n_estimators": 200})
        at.log_metrics({"accuracy": 0.93})
        am.log_model(model, "model")          # atelier.models logs into the active run

``log_metric``, ``log_param`` and ``set_tag`` write to the active run (the one ``start_run`` made, else
``MLFLOW_RUN_ID``) in the store that ``MLFLOW_TRACKING_URI`` names, as MLflow's own client would:

- ``http://…`` / ``https://…``: the MLflow REST API (``Authorization: Bearer $MLFLOW_TRACKING_TOKEN``).
  A failed call prints one warning to stderr and returns False: training goes on.
- ``file:<path>`` (or a plain path): MLflow's file-store layout under ``<path>/<experiment id>/<run id>/``:
  ``metrics/<key>`` (one ``<timestamp ms> <value> <step>`` line per point, appended whole),
  ``params/<key>`` and ``tags/<key>`` (the value as the file's content).

``start_run``/``end_run`` need the REST API (they create and finish runs on the server). A run started
here is the active run: it sets MLFLOW_RUN_ID for this process until it ends. Only the standard library
is used.
"""
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

__all__ = [
    "start_run", "end_run", "active_run_id", "Run",
    "log_metric", "log_metrics", "log_param", "log_params", "set_tag", "tracking_uri", "run_id",
]

_active = []


def tracking_uri():
    return os.environ.get("MLFLOW_TRACKING_URI", "")


def active_run_id():
    return _active[-1].run_id if _active else (os.environ.get("MLFLOW_RUN_ID") or None)


def run_id():
    rid = active_run_id()
    if not rid:
        raise RuntimeError("no active run: call atelier.tracking.start_run() or set MLFLOW_RUN_ID")
    return rid


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
    from .models import MlflowRestError

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
    """Creates a run on the tracking server and makes it the active one (MLFLOW_RUN_ID). A context manager."""
    from .models import _Client

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


def _now_ms():
    return int(time.time() * 1000)


def _check_key(key):
    key = str(key)
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError("invalid key %r: use letters, digits, '_', '-', '.', ' ' and '/' between names" % key)
    return key


def _file_root(uri):
    if uri.startswith("file://"):
        return urllib.request.url2pathname(uri[len("file://"):])
    if uri.startswith("file:"):
        return uri[len("file:"):]
    return uri


def _run_dir(root, rid):
    exp = os.environ.get("MLFLOW_EXPERIMENT_ID", "0")
    d = os.path.join(root, exp, rid)
    if os.path.isdir(d):
        return d
    if os.path.isdir(root):
        for name in os.listdir(root):
            cand = os.path.join(root, name, rid)
            if os.path.isdir(cand):
                return cand
    os.makedirs(d, exist_ok=True)
    return d


def _write_file_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


_warned = set()


def _post(path, body):
    uri = tracking_uri().rstrip("/")
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(uri + "/api/2.0/mlflow/" + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        return True
    except (urllib.error.URLError, OSError) as e:
        if path not in _warned:
            _warned.add(path)
            print("atelier.tracking: %s failed: %s" % (path, e), file=sys.stderr, flush=True)
        return False


def _fmt_value(value):
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def log_metric(key, value, step=0, timestamp=None):
    """One point of a metric series. Returns True when it was stored."""
    key = _check_key(key)
    ts = _now_ms() if timestamp is None else int(timestamp)
    step = int(step or 0)
    uri = tracking_uri()
    if not uri:
        return False
    if uri.startswith(("http://", "https://")):
        body = {"run_id": run_id(), "key": key, "value": float(value), "timestamp": ts, "step": step}
        if math.isnan(body["value"]) or math.isinf(body["value"]):
            body["value"] = _fmt_value(value).replace("nan", "NaN").replace("inf", "Infinity")
        return _post("runs/log-metric", body)
    path = os.path.join(_run_dir(_file_root(uri), run_id()), "metrics", *key.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    line = ("%d %s %d\n" % (ts, _fmt_value(value), step)).encode()
    # one write with O_APPEND: a reader never sees two points interleaved, at most a line not yet ended
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return True


def log_metrics(metrics, step=0, timestamp=None):
    ts = _now_ms() if timestamp is None else int(timestamp)
    return all([log_metric(k, v, step, ts) for k, v in metrics.items()])


def log_param(key, value):
    """A run parameter; as in MLflow, a parameter once logged keeps its value."""
    key = _check_key(key)
    value = str(value)
    uri = tracking_uri()
    if not uri:
        return False
    if uri.startswith(("http://", "https://")):
        return _post("runs/log-parameter", {"run_id": run_id(), "key": key, "value": value})
    path = os.path.join(_run_dir(_file_root(uri), run_id()), "params", *key.split("/"))
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
        if old != value:
            raise ValueError("param %r was already logged with value %r (new value %r)" % (key, old, value))
        return True
    _write_file_atomic(path, value)
    return True


def log_params(params):
    return all([log_param(k, v) for k, v in params.items()])


def set_tag(key, value):
    key = _check_key(key)
    value = str(value)
    uri = tracking_uri()
    if not uri:
        return False
    if uri.startswith(("http://", "https://")):
        return _post("runs/set-tag", {"run_id": run_id(), "key": key, "value": value})
    _write_file_atomic(os.path.join(_run_dir(_file_root(uri), run_id()), "tags", *key.split("/")), value)
    return True
