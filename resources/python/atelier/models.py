"""Save scikit-learn and XGBoost models in MLflow's model directory format, and log them to a run.

Only the standard library is required (pandas and numpy are used when installed, for the
signature and the input example). The directory holds what `mlflow.pyfunc.load_model`,
`mlflow.sklearn.load_model` and `mlflow models serve` read:

    MLmodel              flavors (python_function + sklearn, or + xgboost), signature, input example info
    model.pkl            the model, pickled (serialization_format: pickle)
    model.xgb            XGBoost models: the booster in XGBoost's own format
    requirements.txt     pinned versions of what the model needs
    python_env.yaml      for virtualenv environments
    conda.yaml           for conda environments
    input_example.json   the example, in pandas "split" orient (or {"inputs": ...} for arrays)

    import atelier.models as am
    am.save_model(model, "out/model", input_example=X.head(5))
    am.log_model(model, artifact_path="model", input_example=X.head(5), registered_model_name="fraud")

`log_model` uploads the files to the run named by MLFLOW_RUN_ID (or `run_id=`) through the tracking
server at MLFLOW_TRACKING_URI (MLFLOW_TRACKING_TOKEN as a bearer token), using urllib only.
"""

import datetime as _dt
import json
import os
import pickle
import platform
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid

__all__ = ["save_model", "log_model", "infer_signature", "MlflowRestError"]

# The MLflow format version this writer follows (MLmodel files carry the writer's mlflow_version).
MLFLOW_FORMAT_VERSION = "2.9.2"


class MlflowRestError(RuntimeError):
    """An error answer from the tracking server: `error_code` and `status` as MLflow sends them."""

    def __init__(self, status, error_code, message):
        super().__init__(f"{error_code} ({status}): {message}")
        self.status = status
        self.error_code = error_code


# ---------------------------------------------------------------------------------------------
# YAML (a small emitter for the plain dicts, lists and scalars MLmodel files hold)


def _yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    # quote anything a YAML reader could take for another type or structure
    if (
        s == ""
        or s.strip() != s
        or s.lower() in ("null", "true", "false", "yes", "no", "on", "off", "~")
        or any(c in s for c in ":#{}[],&*!|>'\"%@`\n")
        or s[0] in "-?"
        or _looks_numeric(s)
    ):
        return "'" + s.replace("'", "''") + "'"
    return s


def _looks_numeric(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _yaml(obj, indent=0):
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{k}:")
                lines.append(_yaml(v, indent + 1))
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{k}:")
                lines.append(_yaml(v, indent))
            else:
                empty = "{}" if isinstance(v, dict) else "[]" if isinstance(v, list) else None
                lines.append(f"{pad}{k}: {empty if empty else _yaml_scalar(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict) and v:
                inner = _yaml(v, indent + 1).split("\n")
                lines.append(f"{pad}- {inner[0].strip()}")
                lines.extend(inner[1:])
            elif isinstance(v, list) and v:
                lines.append(f"{pad}-")
                lines.append(_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}- {_yaml_scalar(v)}")
    else:
        lines.append(pad + _yaml_scalar(obj))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# signature and input example


def _module(name):
    return sys.modules.get(name) or _try_import(name)


def _try_import(name):
    try:
        return __import__(name)
    except Exception:
        return None


_NUMPY_TO_MLFLOW = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "long",
    "uint8": "integer",
    "uint16": "integer",
    "uint32": "long",
    "uint64": "long",
    "float16": "float",
    "float32": "float",
    "float64": "double",
    "object": "string",
    "str": "string",
    "bytes": "binary",
}


def _column_type(series):
    kind = str(series.dtype)
    if kind.startswith("datetime64"):
        return "datetime"
    if kind == "category":
        return "string"
    if kind == "object":
        values = [v for v in series.tolist() if v is not None]
        if values and all(isinstance(v, bytes) for v in values):
            return "binary"
        if values and all(isinstance(v, bool) for v in values):
            return "boolean"
        return "string"
    if kind in ("string", "str"):
        return "string"
    return _NUMPY_TO_MLFLOW.get(kind.lower(), "string")


def _py_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "long"
    if isinstance(v, float):
        return "double"
    if isinstance(v, bytes):
        return "binary"
    return "string"


def _schema(data):
    """MLflow's column or tensor schema (a list of dicts) for a DataFrame, Series, ndarray, dict or list."""
    pd = _module("pandas")
    np = _module("numpy")
    if pd is not None and isinstance(data, pd.DataFrame):
        return [{"type": _column_type(data[c]), "name": str(c), "required": True} for c in data.columns]
    if pd is not None and isinstance(data, pd.Series):
        col = {"type": _column_type(data), "required": True}
        if data.name is not None:
            col["name"] = str(data.name)
        return [col]
    if np is not None and isinstance(data, np.ndarray):
        shape = [-1] + list(data.shape[1:])
        return [{"type": "tensor", "tensor-spec": {"dtype": str(data.dtype), "shape": shape}}]
    if isinstance(data, dict):
        return [{"type": _py_type(v[0] if isinstance(v, list) and v else v), "name": str(k), "required": True} for k, v in data.items()]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [{"type": _py_type(v), "name": str(k), "required": True} for k, v in data[0].items()]
    if isinstance(data, list) and data:
        return [{"type": _py_type(data[0]), "required": True}]
    raise TypeError(f"cannot infer a schema from {type(data).__name__}")


def infer_signature(model_input, model_output=None):
    """{'inputs': <json>, 'outputs': <json or None>, 'params': None} as MLmodel stores a signature."""
    return {
        "inputs": json.dumps(_schema(model_input)),
        "outputs": json.dumps(_schema(model_output)) if model_output is not None else None,
        "params": None,
    }


def _jsonable(v):
    np = _module("numpy")
    if np is not None:
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v


def _example_json(example):
    """(json text, saved_input_example_info) in MLflow's layout."""
    pd = _module("pandas")
    np = _module("numpy")
    if pd is not None and isinstance(example, pd.Series):
        example = example.to_frame()
    if pd is not None and isinstance(example, pd.DataFrame):
        data = [[_jsonable(v) for v in row] for row in example.itertuples(index=False, name=None)]
        body = {"columns": [str(c) for c in example.columns], "data": data}
        return json.dumps(body), {"artifact_path": "input_example.json", "type": "dataframe", "pandas_orient": "split"}
    if np is not None and isinstance(example, np.ndarray):
        return json.dumps({"inputs": example.tolist()}), {"artifact_path": "input_example.json", "type": "ndarray", "format": "tf-serving"}
    if isinstance(example, dict):
        return json.dumps({k: _jsonable(v) for k, v in example.items()}), {"artifact_path": "input_example.json", "type": "json_object"}
    if isinstance(example, list):
        return json.dumps([_jsonable(v) for v in example]), {"artifact_path": "input_example.json", "type": "json_object"}
    raise TypeError(f"unsupported input example type: {type(example).__name__}")


# ---------------------------------------------------------------------------------------------
# saving


def _version_of(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


def _is_xgboost(model):
    mod = type(model).__module__ or ""
    return mod.startswith("xgboost")


def _requirements(packages):
    lines = ["mlflow"]
    for dist in packages:
        v = _version_of(dist)
        if v:
            lines.append(f"{dist}=={v}")
    return lines


def save_model(model, path, input_example=None, signature=None, metadata=None, run_id=None, artifact_path=None):
    """Writes `model` to the new (or empty) directory `path` in MLflow's model format.

    signature: a dict from `infer_signature`, or None to infer it from `input_example` (the
    model's prediction on the example gives the output schema). Returns the MLmodel dict.
    """
    path = os.fspath(path)
    if os.path.exists(path) and os.listdir(path):
        raise FileExistsError(f"model directory {path!r} already exists and is not empty")
    os.makedirs(path, exist_ok=True)
    xgb = _is_xgboost(model)
    py_version = platform.python_version()

    with open(os.path.join(path, "model.pkl"), "wb") as f:
        pickle.dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)
    if xgb:
        model.save_model(os.path.join(path, "model.xgb"))

    if signature is None and input_example is not None:
        output = None
        try:
            output = model.predict(input_example)
        except Exception:
            output = None
        signature = infer_signature(input_example, output)

    packages = ["scikit-learn", "numpy", "scipy", "pandas"]
    if xgb:
        packages = ["xgboost"] + packages
    requirements = _requirements(packages)
    with open(os.path.join(path, "requirements.txt"), "w") as f:
        f.write("\n".join(requirements) + "\n")
    pip_version = _version_of("pip")
    build = [f"pip=={pip_version}" if pip_version else "pip"]
    for dist in ("setuptools", "wheel"):
        v = _version_of(dist)
        build.append(f"{dist}=={v}" if v else dist)
    with open(os.path.join(path, "python_env.yaml"), "w") as f:
        f.write(_yaml({"python": py_version, "build_dependencies": build, "dependencies": ["-r requirements.txt"]}) + "\n")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={py_version}", f"pip<={pip_version}" if pip_version else "pip", {"pip": requirements}],
        "name": "mlflow-env",
    }
    with open(os.path.join(path, "conda.yaml"), "w") as f:
        f.write(_yaml(conda) + "\n")

    flavors = {}
    env = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    if xgb:
        flavors["python_function"] = {
            "data": "model.xgb",
            "env": env,
            "loader_module": "mlflow.xgboost",
            "python_version": py_version,
        }
        flavors["xgboost"] = {
            "code": None,
            "data": "model.xgb",
            "model_class": f"{type(model).__module__}.{type(model).__name__}",
            "model_format": "xgb",
            "xgb_version": _version_of("xgboost"),
        }
    else:
        flavors["python_function"] = {
            "env": env,
            "loader_module": "mlflow.sklearn",
            "model_path": "model.pkl",
            "predict_fn": "predict",
            "python_version": py_version,
        }
    if not xgb or hasattr(model, "get_params"):
        flavors["sklearn"] = {
            "code": None,
            "pickled_model": "model.pkl",
            "serialization_format": "pickle",
            "sklearn_version": _version_of("scikit-learn"),
        }

    mlmodel = {}
    if artifact_path is not None:
        mlmodel["artifact_path"] = artifact_path
    mlmodel["flavors"] = flavors
    if metadata:
        mlmodel["metadata"] = metadata
    mlmodel["mlflow_version"] = MLFLOW_FORMAT_VERSION
    mlmodel["model_uuid"] = uuid.uuid4().hex
    if run_id is not None:
        mlmodel["run_id"] = run_id
    if input_example is not None:
        text, info = _example_json(input_example)
        with open(os.path.join(path, "input_example.json"), "w") as f:
            f.write(text)
        mlmodel["saved_input_example_info"] = info
    if signature is not None:
        mlmodel["signature"] = signature
    mlmodel["utc_time_created"] = _dt.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    size = sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))
    mlmodel["model_size_bytes"] = size
    with open(os.path.join(path, "MLmodel"), "w") as f:
        f.write(_yaml(mlmodel) + "\n")
    return mlmodel


# ---------------------------------------------------------------------------------------------
# logging to a run over the REST API


class _Client:
    def __init__(self, uri=None, token=None):
        self.uri = (uri or os.environ.get("MLFLOW_TRACKING_URI") or "").rstrip("/")
        if not self.uri.startswith(("http://", "https://")):
            raise RuntimeError("MLFLOW_TRACKING_URI must be an http(s) URL of the tracking server")
        self.token = token if token is not None else os.environ.get("MLFLOW_TRACKING_TOKEN")

    def _request(self, method, path, body=None, data=None, query=None):
        url = self.uri + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = data
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                text = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                err = json.loads(raw)
            except ValueError:
                err = {"error_code": "INTERNAL_ERROR", "message": raw[:500]}
            raise MlflowRestError(e.code, err.get("error_code"), err.get("message")) from None
        return json.loads(text) if text.strip() else {}

    def api(self, method, endpoint, body=None, query=None):
        return self._request(method, "/api/2.0/mlflow/" + endpoint, body=body, query=query)

    def upload(self, artifact_root, rel, file_path):
        if not artifact_root.startswith("mlflow-artifacts:/"):
            raise RuntimeError(f"the run's artifacts live at {artifact_root!r}; only mlflow-artifacts:/ (proxied) is supported")
        base = artifact_root[len("mlflow-artifacts:") :].lstrip("/")
        segs = [urllib.parse.quote(s, safe="") for s in (base + "/" + rel).split("/") if s]
        with open(file_path, "rb") as f:
            data = f.read()
        self._request("PUT", "/api/2.0/mlflow-artifacts/artifacts/" + "/".join(segs), data=data)


def log_model(model, artifact_path="model", input_example=None, signature=None, registered_model_name=None, run_id=None, metadata=None):
    """Saves `model` and uploads it to the run's artifacts under `artifact_path`.

    The run is `run_id` or MLFLOW_RUN_ID. Records the model in the run's `mlflow.log-model.history`
    tag as MLflow does. With `registered_model_name`, registers it as a new version (creating the
    registered model when needed). Returns {'run_id', 'artifact_path', 'model_uri', 'version'}.
    """
    run_id = run_id or os.environ.get("MLFLOW_RUN_ID")
    if not run_id:
        raise RuntimeError("no run: pass run_id= or set MLFLOW_RUN_ID")
    artifact_path = artifact_path.strip("/")
    if not artifact_path or ".." in artifact_path.split("/"):
        raise ValueError(f"invalid artifact_path {artifact_path!r}")
    client = _Client()
    run = client.api("GET", "runs/get", query={"run_id": run_id})["run"]
    root = run["info"]["artifact_uri"]
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "model")
        mlmodel = save_model(model, local, input_example=input_example, signature=signature, metadata=metadata, run_id=run_id, artifact_path=artifact_path)
        for name in sorted(os.listdir(local)):
            client.upload(root, f"{artifact_path}/{name}", os.path.join(local, name))
    tags = {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
    try:
        history = json.loads(tags.get("mlflow.log-model.history", "[]"))
        if not isinstance(history, list):
            history = []
    except ValueError:
        history = []
    entry = {k: mlmodel[k] for k in ("artifact_path", "flavors", "model_uuid", "run_id", "utc_time_created") if k in mlmodel}
    history.append(entry)
    client.api("POST", "runs/set-tag", body={"run_id": run_id, "key": "mlflow.log-model.history", "value": json.dumps(history)})
    model_uri = f"runs:/{run_id}/{artifact_path}"
    result = {"run_id": run_id, "artifact_path": artifact_path, "model_uri": model_uri, "version": None}
    if registered_model_name:
        try:
            client.api("POST", "registered-models/create", body={"name": registered_model_name})
        except MlflowRestError as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        mv = client.api("POST", "model-versions/create", body={"name": registered_model_name, "source": model_uri, "run_id": run_id})
        result["version"] = int(mv["model_version"]["version"])
    return result
