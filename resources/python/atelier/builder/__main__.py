"""Command line of the builder: one JSON object per stdout line (see the package docstring)."""

import json
import os
import pickle
import sys
import time
import traceback


def emit(kind, **fields):
    sys.stdout.write(json.dumps({"type": kind, **fields}, default=_default, allow_nan=False) + "\n")
    sys.stdout.flush()


def _write_json(path, obj, **kw):
    """Writes JSON whole or not at all: readers (the app polls results.json) never see half a file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, **kw)
    os.replace(tmp, path)


def _default(v):
    import numpy as np

    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def _clean(obj):
    """NaN/inf -> None, so every line is strict JSON."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def check():
    import importlib.util

    missing = [m for m in ("sklearn", "pandas", "numpy") if importlib.util.find_spec(m) is None]
    if missing:
        names = {"sklearn": "scikit-learn"}
        pkgs = " ".join(names.get(m, m) for m in missing)
        emit("error", code="BUILDER_PYTHON_MISSING", message=f"{sys.executable} lacks {pkgs}", hint=f"{sys.executable} -m pip install {pkgs}", missing=missing)
        return 2
    import sklearn

    emit("result", python=sys.executable, sklearn=sklearn.__version__, xgboost=importlib.util.find_spec("xgboost") is not None)
    return 0


def _tracking_on():
    return bool(os.environ.get("MLFLOW_TRACKING_URI"))


def build(cfg):
    from . import data, reports
    from .candidates import LabelCodec, candidates, evaluate, objective

    t0 = time.time()
    out = cfg["outDir"]
    os.makedirs(os.path.join(out, "candidates"), exist_ok=True)
    mode = cfg.get("mode", "quick")
    seed = int(cfg.get("seed", 42))
    sp = cfg.get("split", {})
    emit("progress", stage="read", message="Reading the table", fraction=0.02)
    sample = cfg.get("sampleRows") or (2000 if mode == "preview" else None)
    df, notice = data.read_table(cfg["data"], sample_rows=sample, seed=seed)
    X, y, kinds, ptype, notices, dropped, df = data.prepare(df, cfg["target"], cfg["features"], cfg.get("problemType"))
    if notice and mode != "preview":
        notices.insert(0, notice)
    codec = LabelCodec(y) if ptype != "regression" else None
    y_enc = codec.encode(y) if codec else y.to_numpy(dtype=float)
    import pandas as pd

    y_enc = pd.Series(y_enc)
    X_train, X_val, X_test, y_train, y_val, y_test = data.split(
        X, y_enc, ptype, sp.get("train", 70), sp.get("validation", 15), sp.get("test", 15), seed, sp.get("stratify", True)
    )
    for n in notices:
        emit("notice", message=n)
    cardinality = {c: int(X[c].nunique()) for c, k in kinds.items() if k == "categorical"}
    metric, goal = objective(ptype)
    cands = candidates(kinds, ptype, mode, seed, n_classes=len(codec.classes) if codec else 0, cardinality=cardinality)
    state = {
        "target": cfg["target"], "features": list(kinds), "dropped": dropped, "kinds": kinds, "ptype": ptype, "seed": seed,
        "classes": codec.classes if codec else None, "split": {"train": sp.get("train", 70), "validation": sp.get("validation", 15), "test": sp.get("test", 15), "stratify": sp.get("stratify", True)},
        "X_test": X_test, "test_frame": df.loc[X_test.index], "y_test": y_test.to_numpy(), "baseline": reports.typical_row(X_train, kinds), "objective": metric, "goal": goal,
        "rows": {"total": len(X), "train": len(X_train), "validation": len(X_val), "test": len(X_test)}, "notices": notices,
    }
    with open(os.path.join(out, "state.pkl"), "wb") as f:
        pickle.dump(state, f)
    emit("prepared", problemType=ptype, classes=state["classes"], rows=state["rows"], objective=metric, goal=goal, features=list(kinds), dropped=dropped, notices=notices, candidates=[c[0] for c in cands])
    board = []
    for i, (name, pipe, grid) in enumerate(cands):
        emit("candidate", name=name, status="running")
        emit("progress", stage="train", message=f"Training {name.replace('_', ' ')}", fraction=0.05 + 0.8 * i / len(cands))
        started = time.time()
        run_id = None
        try:
            if _tracking_on() and mode != "preview":
                from .. import tracking

                run = tracking.start_run(experiment_name=cfg.get("experimentName") or "builder", run_name=name, tags={"atelier.builder.build": cfg.get("buildId", ""), "atelier.builder.candidate": name})
                run_id = run.run_id
            params = {}
            if mode == "standard" and grid:
                from sklearn.model_selection import RandomizedSearchCV

                scoring = {"roc_auc": "roc_auc", "balanced_accuracy": "balanced_accuracy", "rmse": "neg_root_mean_squared_error"}[metric]
                search = RandomizedSearchCV(pipe, grid, n_iter=min(6, _grid_size(grid)), cv=3, scoring=scoring, random_state=seed, n_jobs=1)
                search.fit(X_train, y_train)
                pipe = search.best_estimator_
                params.update({k.replace("model__", ""): v for k, v in search.best_params_.items()})
                params["cv_score"] = float(search.best_score_) * (-1 if metric == "rmse" else 1)
            else:
                pipe.fit(X_train, y_train)
            params.update({k: v for k, v in pipe.named_steps["model"].get_params().items() if isinstance(v, (int, float, str, bool)) or v is None})
            val = evaluate(pipe, X_val, y_val, ptype)
            test = evaluate(pipe, X_test, y_test, ptype)
            seconds = time.time() - started
            with open(os.path.join(out, "candidates", f"{name}.pkl"), "wb") as f:
                pickle.dump(pipe, f)
            if run_id:
                from .. import models, tracking

                tracking.log_params({"estimator": type(pipe.named_steps["model"]).__name__, "problem_type": ptype, "target": cfg["target"], "features": ",".join(kinds), "seed": seed, **{k: v for k, v in list(params.items())[:80]}})
                tracking.log_metrics({**{f"val_{k}": v for k, v in val.items()}, **{f"test_{k}": v for k, v in test.items()}, "fit_seconds": seconds})
                models.log_model(pipe, "model", input_example=X_train.head(5))
                tracking.end_run("FINISHED")
            row = {"name": name, "status": "done", "runId": run_id, "validation": _clean(val), "test": _clean(test), "seconds": seconds, "params": _clean({k: v for k, v in params.items() if k in ("C", "alpha", "learning_rate", "max_depth", "max_leaf_nodes", "min_samples_leaf", "n_estimators", "cv_score")})}
        except Exception as e:  # one candidate failing does not stop the others
            if run_id:
                try:
                    from .. import tracking

                    tracking.end_run("FAILED")
                except Exception:
                    pass
            row = {"name": name, "status": "failed", "runId": run_id, "error": f"{type(e).__name__}: {e}", "seconds": time.time() - started}
            sys.stderr.write(traceback.format_exc())
        board.append(row)
        emit("candidate", **row)
    done = [r for r in board if r["status"] == "done" and r["validation"].get(metric) is not None]
    if not done:
        emit("error", code="BUILDER_ALL_FAILED", message="Every candidate failed: " + "; ".join(f"{r['name']}: {r.get('error')}" for r in board))
        return 1
    sign = -1 if goal == "minimize" else 1
    done.sort(key=lambda r: -sign * r["validation"][metric])
    best = done[0]["name"]
    emit("progress", stage="explain", message="Measuring column impact", fraction=0.9)
    details = explain(out, best, state, mode)
    result = {"best": best, "leaderboard": sorted(board, key=lambda r: (r["status"] != "done", -sign * (r.get("validation") or {}).get(metric, float("-inf") * sign))), "details": details, "seconds": time.time() - t0, "problemType": ptype, "objective": metric, "goal": goal, "rows": state["rows"], "classes": state["classes"], "features": state["features"], "dropped": dropped, "notices": notices, "baseline": state["baseline"], "kinds": kinds}
    result = _clean(result)
    _write_json(os.path.join(out, "results.json"), result)
    emit("result", **result)
    return 0


def _grid_size(grid):
    n = 1
    for v in grid.values():
        n *= len(v)
    return n


def explain(out, name, state, mode="quick"):
    """Test-split details of one candidate: metrics with curves, column impact, partial dependence."""
    from . import reports
    from .candidates import evaluate

    with open(os.path.join(out, "candidates", f"{name}.pkl"), "rb") as f:
        pipe = pickle.load(f)
    X, y, ptype, kinds = state["X_test"], state["y_test"], state["ptype"], state["kinds"]
    metrics = evaluate(pipe, X, y, ptype, detail=True)
    impact = reports.column_impact(pipe, X, y, ptype, state["seed"], repeats=2 if mode == "preview" else 5)
    top = [r["column"] for r in impact["columns"][:3]]
    pd_ = [] if mode == "preview" else reports.partial_dependence(pipe, X, kinds, top, ptype, state["seed"])
    return _clean({"candidate": name, "metrics": metrics, "impact": impact, "partialDependence": pd_})


def load(out, name):
    with open(os.path.join(out, "state.pkl"), "rb") as f:
        state = pickle.load(f)
    with open(os.path.join(out, "candidates", f"{name}.pkl"), "rb") as f:
        pipe = pickle.load(f)
    return state, pipe


def details(cfg):
    state, _ = load(cfg["outDir"], cfg["candidate"])
    emit("result", **explain(cfg["outDir"], cfg["candidate"], state))
    return 0


def bias(cfg):
    import pandas as pd

    from . import data, reports

    state, pipe = load(cfg["outDir"], cfg["candidate"])
    if state["ptype"] == "regression":
        emit("error", code="BUILDER_BAD_INPUT", message="A bias report needs a classification model")
        return 1
    col = cfg["column"]
    # the sensitive column of the test rows, whether or not the model used it
    if col not in state["test_frame"].columns:
        emit("error", code="BUILDER_BAD_INPUT", message=f"{col} is not a column of the table")
        return 1
    groups = state["test_frame"][col]
    y = state["y_test"]
    proba = pipe.predict_proba(state["X_test"])
    threshold = float(cfg.get("threshold", 0.5))
    if state["ptype"] == "binary":
        pred = (proba[:, 1] >= threshold).astype(int)
        positive = state["classes"][1]
        yt = y
    else:
        pred = proba.argmax(axis=1)
        positive = state["classes"][-1]
        yt = (y == len(state["classes"]) - 1).astype(int)
        pred = (pred == len(state["classes"]) - 1).astype(int)
    report = reports.bias_report(groups, yt, pred, positive, col)
    report["threshold"] = threshold
    report["candidate"] = cfg["candidate"]
    report = _clean(report)
    path = os.path.join(cfg["outDir"], f"bias_{cfg['candidate']}_{col}.json")
    _write_json(path, report, indent=1)
    if cfg.get("runId") and _tracking_on():
        from ..models import _Client

        client = _Client()
        run = client.api("GET", "runs/get", query={"run_id": cfg["runId"]})["run"]
        client.upload(run["info"]["artifact_uri"], f"bias/bias_report_{col}.json", path)
        report["artifact"] = f"bias/bias_report_{col}.json"
    emit("result", **report)
    return 0


def _predict_rows(state, pipe, frame):
    from . import data

    X = data.coerce(frame, state["kinds"])
    ptype = state["ptype"]
    if ptype == "regression":
        return X, pipe.predict(X).astype(float), None
    proba = pipe.predict_proba(X)
    labels = [state["classes"][i] for i in proba.argmax(axis=1)]
    return X, labels, proba


def predict_one(state, pipe, row):
    import pandas as pd

    from . import reports

    frame = pd.DataFrame([{c: row.get(c) for c in state["kinds"]}])
    X, labels, proba = _predict_rows(state, pipe, frame)
    contrib = reports.contributions(pipe, X, state["baseline"], state["kinds"], state["ptype"])
    out = {"prediction": labels[0] if proba is not None else float(labels[0]), "contributions": contrib}
    if proba is not None:
        out["probabilities"] = {str(c): float(p) for c, p in zip(state["classes"], proba[0])}
        out["probability"] = float(proba[0][1]) if state["ptype"] == "binary" else float(proba[0].max())
    return _clean(out)


def serve(out):
    """Predictions for the form: one JSON request per stdin line ({id, candidate, row}), one answer line each."""
    cache = {}
    emit("ready")
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            name = req["candidate"]
            if name not in cache:
                cache[name] = load(out, name)
            state, pipe = cache[name]
            emit("result", id=req.get("id"), **predict_one(state, pipe, req.get("row") or {}))
        except Exception as e:
            emit("error", id=req.get("id"), code="BUILDER_PREDICT_FAILED", message=f"{type(e).__name__}: {e}")
    return 0


def batch(cfg):
    import pandas as pd

    state, pipe = load(cfg["outDir"], cfg["candidate"])
    df = pd.read_csv(cfg["input"], low_memory=False)
    missing = [c for c in state["kinds"] if c not in df.columns]
    if missing:
        emit("error", code="BUILDER_BAD_INPUT", message=f"The table lacks the model's columns: {', '.join(missing)}", columns=missing)
        return 1
    _, labels, proba = _predict_rows(state, pipe, df)
    df["prediction"] = labels
    if proba is not None:
        df["probability"] = proba[:, 1] if state["ptype"] == "binary" else proba.max(axis=1)
    df.to_csv(cfg["output"], index=False)
    emit("result", rows=len(df), output=cfg["output"])
    return 0


def notebook_cmd(cfg):
    from .notebook import notebook

    state, pipe = load(cfg["outDir"], cfg["candidate"])
    nb = notebook(cfg, state, pipe)
    _write_json(cfg["output"], nb, indent=1)
    emit("result", path=cfg["output"])
    return 0


def main(argv):
    from .errors import BuildError

    if not argv:
        emit("error", code="BUILDER_BAD_INPUT", message="usage: python -m atelier.builder check|build|details|bias|batch|notebook|serve ...")
        return 2
    cmd = argv[0]
    try:
        if cmd == "check":
            return check()
        if cmd == "serve":
            return serve(argv[1])
        with open(argv[1]) as f:
            cfg = json.load(f)
        fn = {"build": build, "details": details, "bias": bias, "batch": batch, "notebook": notebook_cmd}[cmd]
        return fn(cfg)
    except BuildError as e:
        emit("error", code=e.code, message=str(e), **e.details)
        return 1
    except Exception as e:
        sys.stderr.write(traceback.format_exc())
        emit("error", code="BUILDER_FAILED", message=f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
