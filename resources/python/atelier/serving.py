"""A scoring server for a model saved in MLflow's format, speaking MLflow's scoring protocol.

    python -m atelier.serving --model-dir DIR --host 127.0.0.1 --port 8080

Routes (as `mlflow models serve`): GET /ping and /health (200 once the model is loaded), GET
/version, POST /invocations with JSON (`dataframe_split`, `dataframe_records`, `instances` or
`inputs`) or CSV, answering {"predictions": [...]}. Bad payloads get MLflow's JSON errors
({"error_code": "BAD_REQUEST", "message": ...}) with a 4xx status: malformed JSON, an unknown
content type, missing columns or values of the wrong type (checked against the MLmodel
signature), bodies over --max-body bytes.

It is a plain ASGI app on uvicorn, needing only what the user's interpreter has: scikit-learn,
pandas, PyYAML and uvicorn. The model is loaded before the port is opened, so a model that cannot
be loaded (a missing module, say) ends the process with the Python traceback on stderr and never
answers /ping.
"""

import argparse
import io
import json
import os
import pickle
import sys

from atelier.models import MLFLOW_FORMAT_VERSION

DEFAULT_MAX_BODY = 50 * 1024 * 1024
JSON_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class ScoringError(Exception):
    def __init__(self, message, status=400, error_code="BAD_REQUEST"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code


# ---------------------------------------------------------------------------------------------
# the model


def read_mlmodel(model_dir):
    import yaml

    with open(os.path.join(model_dir, "MLmodel")) as f:
        return yaml.safe_load(f) or {}


def input_schema(mlmodel):
    """The signature's input columns [{"name", "type", "required"}], or None (no signature or a tensor one)."""
    sig = mlmodel.get("signature") or {}
    inputs = sig.get("inputs")
    if not inputs:
        return None
    cols = json.loads(inputs) if isinstance(inputs, str) else inputs
    if not cols or any(c.get("type") == "tensor" or "name" not in c for c in cols):
        return None
    return cols


def load_model(model_dir, mlmodel):
    flavors = mlmodel.get("flavors") or {}
    if "sklearn" in flavors:
        path = flavors["sklearn"].get("pickled_model", "model.pkl")
    elif "python_function" in flavors and flavors["python_function"].get("model_path"):
        path = flavors["python_function"]["model_path"]
    elif "xgboost" in flavors:
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(os.path.join(model_dir, flavors["xgboost"].get("data", "model.xgb")))
        return booster
    else:
        raise RuntimeError(f"no loadable flavor in {os.path.join(model_dir, 'MLmodel')} (found: {', '.join(flavors) or 'none'})")
    with open(os.path.join(model_dir, path), "rb") as f:
        return pickle.load(f)


# ---------------------------------------------------------------------------------------------
# payloads


def parse_json_body(body):
    import pandas as pd

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ScoringError(f"Invalid input. Ensure the input is valid JSON: {e}")
    if not isinstance(doc, dict):
        raise ScoringError(f"Invalid input. The JSON body must be an object with one of the keys {list(JSON_KEYS)}.")
    keys = [k for k in JSON_KEYS if k in doc]
    if len(keys) != 1:
        raise ScoringError(
            f"Invalid input. The input must contain exactly one of the following keys: {', '.join(JSON_KEYS)}, got {sorted(doc)}."
        )
    key = keys[0]
    value = doc[key]
    try:
        if key == "dataframe_split":
            if not isinstance(value, dict) or "data" not in value:
                raise ScoringError("Invalid input. 'dataframe_split' must be an object with 'columns' and 'data'.")
            return pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
        if key == "dataframe_records":
            if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
                raise ScoringError("Invalid input. 'dataframe_records' must be a list of objects.")
            return pd.DataFrame.from_records(value)
        # instances / inputs: a list of records, a dict of columns, or a list of rows
        if isinstance(value, dict):
            return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in value.items()})
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            return pd.DataFrame.from_records(value)
        if isinstance(value, list):
            return value
        raise ScoringError(f"Invalid input. '{key}' must be a list or an object.")
    except ScoringError:
        raise
    except Exception as e:  # pandas shape errors
        raise ScoringError(f"Invalid input. Could not read '{key}' as a table: {e}")


def parse_csv_body(body):
    import pandas as pd

    try:
        return pd.read_csv(io.BytesIO(body))
    except Exception as e:
        raise ScoringError(f"Invalid input. Could not read the CSV body: {e}")


_NUMERIC = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}


def enforce_schema(data, schema):
    """Columns and types as the signature says; extra columns are dropped, as MLflow does."""
    import pandas as pd

    if schema is None:
        return data
    if not isinstance(data, pd.DataFrame):
        names = [c["name"] for c in schema]
        rows = data if data and isinstance(data[0], list) else [data]
        if any(len(r) != len(names) for r in rows):
            raise ScoringError(f"Model is missing inputs: expected {len(names)} values per row ({names}).")
        data = pd.DataFrame(rows, columns=names)
    required = [c["name"] for c in schema if c.get("required", True)]
    missing = [n for n in required if n not in data.columns]
    if missing:
        raise ScoringError(f"Model is missing inputs {missing}. Note that there were extra inputs: {sorted(set(map(str, data.columns)) - {c['name'] for c in schema})}")
    out = {}
    for col in schema:
        name, kind = col["name"], col.get("type", "string")
        if name not in data.columns:
            continue
        s = data[name]
        if kind in _NUMERIC:
            if s.dtype == bool or any(isinstance(v, (str, bytes, bool, list, dict)) for v in s.tolist()):
                bad = next(v for v in s.tolist() if isinstance(v, (str, bytes, bool, list, dict)) or s.dtype == bool)
                raise ScoringError(f"Incompatible input types for column {name}. Can not safely convert {type(bad).__name__} value {bad!r} to {kind}.")
            num = pd.to_numeric(s, errors="coerce")
            if kind in ("long", "integer"):
                nonint = num.notna() & (num != num.round())
                if nonint.any():
                    raise ScoringError(f"Incompatible input types for column {name}. Can not safely convert {num[nonint].iloc[0]!r} to {kind}.")
                if num.isna().any():
                    raise ScoringError(f"Incompatible input types for column {name}. Missing value where {kind} is required.")
                num = num.astype(_NUMERIC[kind])
            else:
                num = num.astype(_NUMERIC[kind])
            out[name] = num
        elif kind == "boolean":
            if not all(isinstance(v, bool) or v is None for v in s.tolist()):
                raise ScoringError(f"Incompatible input types for column {name}. Expected boolean values.")
            out[name] = s
        elif kind == "string":
            if not all(isinstance(v, str) or v is None for v in s.tolist()):
                bad = next(v for v in s.tolist() if not (isinstance(v, str) or v is None))
                raise ScoringError(f"Incompatible input types for column {name}. Expected string, got {type(bad).__name__} value {bad!r}.")
            out[name] = s
        else:
            out[name] = s
    return pd.DataFrame(out, index=data.index)


def jsonable(predictions):
    try:
        import numpy as np

        if isinstance(predictions, np.ndarray):
            return predictions.tolist()
    except ImportError:
        pass
    if hasattr(predictions, "to_dict"):
        try:
            return predictions.to_dict(orient="records")
        except TypeError:
            return predictions.tolist()
    return list(predictions)


# ---------------------------------------------------------------------------------------------
# the ASGI app


def create_app(model_dir, max_body=DEFAULT_MAX_BODY):
    mlmodel = read_mlmodel(model_dir)
    schema = input_schema(mlmodel)
    model = load_model(model_dir, mlmodel)

    def predict(content_type, body):
        ctype = content_type.split(";")[0].strip().lower()
        if ctype == "application/json" or ctype == "":
            data = parse_json_body(body)
        elif ctype == "text/csv":
            data = parse_csv_body(body)
        else:
            raise ScoringError(f"This predictor only supports the following content types: ['application/json', 'text/csv']. Got '{ctype}'.", 415)
        data = enforce_schema(data, schema)
        try:
            result = model.predict(data)
        except Exception as e:
            raise ScoringError(f"Encountered an unexpected error while evaluating the model: {type(e).__name__}: {e}", 400)
        return {"predictions": jsonable(result)}

    async def send_json(send, status, doc):
        body = json.dumps(doc, default=str).encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def send_text(send, status, text):
        body = text.encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in ("/ping", "/health") and method == "GET":
            return await send_text(send, 200, "\n")
        if path == "/version" and method == "GET":
            return await send_text(send, 200, MLFLOW_FORMAT_VERSION)
        if path != "/invocations":
            return await send_json(send, 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No route {path}"})
        if method != "POST":
            return await send_json(send, 405, {"error_code": "BAD_REQUEST", "message": "Use POST for /invocations"})
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            return await send_json(send, 413, {"error_code": "BAD_REQUEST", "message": f"The request body is larger than {max_body} bytes."})
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > max_body:
                return await send_json(send, 413, {"error_code": "BAD_REQUEST", "message": f"The request body is larger than {max_body} bytes."})
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        try:
            doc = predict(headers.get("content-type", "application/json"), b"".join(chunks))
        except ScoringError as e:
            return await send_json(send, e.status, {"error_code": e.error_code, "message": e.message})
        except Exception as e:
            return await send_json(send, 500, {"error_code": "INTERNAL_ERROR", "message": f"{type(e).__name__}: {e}"})
        return await send_json(send, 200, doc)

    app.schema = schema
    return app


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m atelier.serving", description=__doc__.split("\n")[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--max-body", type=int, default=int(os.environ.get("ATELIER_SCORING_MAX_BODY", DEFAULT_MAX_BODY)))
    a = p.parse_args(argv)
    app = create_app(a.model_dir, a.max_body)  # a load failure ends here, with its traceback
    import uvicorn

    print(f"atelier.serving: model {a.model_dir} loaded; listening on {a.host}:{a.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
