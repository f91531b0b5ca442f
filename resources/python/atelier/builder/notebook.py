"""A Jupyter notebook (nbformat 4) that reproduces a build: same data file, split, preprocessing, model, metrics."""

import json


def _code(src):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}


def _md(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src}


def estimator_source(est, indent=0):
    """Python source constructing `est` unfitted: its class with the parameters that differ from the defaults."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    pad = " " * (indent + 4)
    if isinstance(est, Pipeline):
        steps = ",\n".join(f"{pad}({name!r}, {estimator_source(s, indent + 4)})" for name, s in est.steps)
        return f"Pipeline([\n{steps}\n{' ' * indent}])"
    if isinstance(est, ColumnTransformer):
        parts = ",\n".join(f"{pad}({name!r}, {estimator_source(t, indent + 4)}, {list(cols)!r})" for name, t, cols in est.transformers)
        return f"ColumnTransformer([\n{parts}\n{' ' * indent}], remainder={est.remainder!r})"
    cls = type(est)
    defaults = cls().get_params(deep=False)
    args = []
    for k, v in est.get_params(deep=False).items():
        d = defaults.get(k, object())
        same = False
        try:
            same = bool(d == v) if not isinstance(v, (list, tuple)) else list(d or []) == list(v)
        except Exception:
            same = False
        if same or (v is None and d is None):
            continue
        if isinstance(v, float) and v != v:
            args.append(f"{k}=nan")
        else:
            args.append(f"{k}={v!r}")
    return f"{cls.__name__}({', '.join(args)})"


def notebook(cfg, state, pipe):
    model_src = estimator_source(pipe)
    sp = state["split"]
    kinds = state["kinds"]
    ptype = state["ptype"]
    cells = [
        _md(f"# {cfg.get('buildName', 'Build')}: {cfg['candidate'].replace('_', ' ')}\n\nReproduces the builder's candidate: the same data, split (seed {state['seed']}), preprocessing, model and test metrics."),
        _code(
            "import numpy as np\nimport pandas as pd\nfrom numpy import nan\n"
            "from sklearn.model_selection import train_test_split\n"
            "from sklearn.pipeline import Pipeline\nfrom sklearn.compose import ColumnTransformer\n"
            "from sklearn.impute import SimpleImputer\nfrom sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler\n"
            "from sklearn.linear_model import LogisticRegression, Ridge\n"
            "from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor, HistGradientBoostingClassifier, HistGradientBoostingRegressor\n"
            "from sklearn import metrics\n"
            + ("from xgboost import XGBClassifier, XGBRegressor\n" if "XGB" in model_src else "")
        ),
        _md("## Data\nThe table the build read (exported by the app), the target and the columns used."),
        _code(
            f"df = pd.read_csv({json.dumps(cfg['data'])}, low_memory=False)\n"
            f"target = {json.dumps(state['target'])}\n"
            f"kinds = {json.dumps(kinds)}\n"
            "df = df[df[target].notna()].reset_index(drop=True)\n"
            "X = pd.DataFrame({c: (pd.to_numeric(df[c], errors='coerce').astype(float) if k == 'numeric' else df[c].where(df[c].isna(), df[c].astype(str)).astype(object)) for c, k in kinds.items()})\n"
            + (
                "y = df[target].astype(float)\n"
                if ptype == "regression"
                else f"classes = {json.dumps(state['classes'], default=str)}\n"
                "y_raw = df[target] if pd.api.types.is_numeric_dtype(df[target]) else df[target].astype(str)\n"
                "y = pd.Series([classes.index(v) for v in y_raw])\n"
            )
        ),
        _md(f"## Split\n{sp['train']}/{sp['validation']}/{sp['test']} train/validation/test" + (", stratified" if sp.get("stratify", True) and ptype != "regression" else "")),
        _code(
            f"seed = {state['seed']}\n"
            f"strat = {'y' if sp.get('stratify', True) and ptype != 'regression' else 'None'}\n"
            f"X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size={sp['test']} / {sp['train'] + sp['validation'] + sp['test']}, random_state=seed, stratify=strat)\n"
            f"strat = {'y_rest' if sp.get('stratify', True) and ptype != 'regression' else 'None'}\n"
            f"X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size={sp['validation']} / {sp['train'] + sp['validation']}, random_state=seed, stratify=strat)\n"
            "len(X_train), len(X_val), len(X_test)"
        ),
        _md("## Preprocessing and model"),
        _code(f"model = {model_src}\nmodel.fit(X_train, y_train)"),
        _md("## Test metrics"),
        _code(
            "pred = model.predict(X_test)\n"
            "print('rmse', metrics.mean_squared_error(y_test, pred) ** 0.5)\nprint('mae', metrics.mean_absolute_error(y_test, pred))\nprint('r2', metrics.r2_score(y_test, pred))"
            if ptype == "regression"
            else "proba = model.predict_proba(X_test)\npred = proba.argmax(axis=1)\n"
            "print('accuracy', metrics.accuracy_score(y_test, pred))\nprint('balanced_accuracy', metrics.balanced_accuracy_score(y_test, pred))\n"
            + ("print('roc_auc', metrics.roc_auc_score(y_test, proba[:, 1]))\n" if ptype == "binary" else "")
            + "print(metrics.confusion_matrix(y_test, pred))"
        ),
    ]
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
