"""Minimal MLflow-compatible logging for Atelier jobs, for scripts without the ``mlflow`` package.

``log_metric``, ``log_param`` and ``set_tag`` write to the run named by ``MLFLOW_RUN_ID`` in the
store that ``MLFLOW_TRACKING_URI`` names, as MLflow's own client would:

- ``http://…`` / ``https://…``: the MLflow REST API (``Authorization: Bearer $MLFLOW_TRACKING_TOKEN``).
  A failed call prints one warning to stderr and returns False: training goes on.
- ``file:<path>`` (or a plain path): MLflow's file-store layout under ``<path>/<experiment id>/<run id>/``:
  ``metrics/<key>`` (one ``<timestamp ms> <value> <step>`` line per point, appended whole),
  ``params/<key>`` and ``tags/<key>`` (the value as the file's content).

Only the standard library is used.
"""
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

__all__ = ["log_metric", "log_metrics", "log_param", "set_tag", "tracking_uri", "run_id"]


def tracking_uri():
    return os.environ.get("MLFLOW_TRACKING_URI", "")


def run_id():
    rid = os.environ.get("MLFLOW_RUN_ID", "")
    if not rid:
        raise RuntimeError("MLFLOW_RUN_ID is not set: this process is not an Atelier job's run")
    return rid


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
