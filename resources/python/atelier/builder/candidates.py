"""Candidate pipelines (preprocessing + estimator) and their test-split metrics."""

import importlib.util

import numpy as np


def xgboost_available():
    return importlib.util.find_spec("xgboost") is not None


def _columns(kinds):
    num = [c for c, k in kinds.items() if k == "numeric"]
    cat = [c for c, k in kinds.items() if k == "categorical"]
    return num, cat


def preprocessor(kinds, style):
    """style 'linear': impute, scale, one-hot; 'tree': impute numbers, ordinal-encode categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    num, cat = _columns(kinds)
    parts = []
    if style == "linear":
        if num:
            parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num))
        if cat:
            enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False)
            parts.append(("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="(missing)")), ("onehot", enc)]), cat))
    else:
        if num:
            parts.append(("num", SimpleImputer(strategy="median"), num))
        if cat:
            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
            parts.append(("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="(missing)")), ("ordinal", enc)]), cat))
    return ColumnTransformer(parts, remainder="drop")


def _estimators(ptype, mode, seed, n_classes):
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge

    cls = ptype != "regression"
    out = []
    if cls:
        out.append(("logistic_regression", "linear", LogisticRegression(C=1.0, max_iter=2000), {"model__C": [0.01, 0.1, 1.0, 10.0]}))
        out.append(("random_forest", "tree", RandomForestClassifier(n_estimators=200, min_samples_leaf=2, n_jobs=-1, random_state=seed), {"model__min_samples_leaf": [1, 2, 5, 10], "model__max_features": ["sqrt", 0.5]}))
        out.append(("hist_gradient_boosting", "hgb", HistGradientBoostingClassifier(random_state=seed), {"model__learning_rate": [0.03, 0.1, 0.2], "model__max_leaf_nodes": [15, 31, 63], "model__l2_regularization": [0.0, 1.0]}))
    else:
        out.append(("ridge_regression", "linear", Ridge(alpha=1.0), {"model__alpha": [0.1, 1.0, 10.0, 100.0]}))
        out.append(("random_forest", "tree", RandomForestRegressor(n_estimators=200, min_samples_leaf=2, n_jobs=-1, random_state=seed), {"model__min_samples_leaf": [1, 2, 5, 10], "model__max_features": [1.0, 0.5]}))
        out.append(("hist_gradient_boosting", "hgb", HistGradientBoostingRegressor(random_state=seed), {"model__learning_rate": [0.03, 0.1, 0.2], "model__max_leaf_nodes": [15, 31, 63]}))
    if xgboost_available():
        import xgboost as xgb

        common = dict(n_estimators=300, learning_rate=0.05, max_depth=4, subsample=0.9, colsample_bytree=0.9, random_state=seed, n_jobs=2)
        grid = {"model__max_depth": [3, 4, 6], "model__learning_rate": [0.03, 0.05, 0.1]}
        if cls:
            out.append(("xgboost", "tree", xgb.XGBClassifier(**common, eval_metric="logloss"), grid))
        else:
            out.append(("xgboost", "tree", xgb.XGBRegressor(**common), grid))
    if mode == "standard":
        if cls:
            out.append(("extra_trees", "tree", ExtraTreesClassifier(n_estimators=300, min_samples_leaf=2, n_jobs=-1, random_state=seed), {"model__min_samples_leaf": [1, 2, 5]}))
        else:
            out.append(("extra_trees", "tree", ExtraTreesRegressor(n_estimators=300, min_samples_leaf=2, n_jobs=-1, random_state=seed), {"model__min_samples_leaf": [1, 2, 5]}))
    return out


def candidates(kinds, ptype, mode, seed, n_classes=2, cardinality=None):
    """[(name, pipeline, search grid)] for the mode: preview (one fast model), quick, standard."""
    from sklearn.pipeline import Pipeline

    specs = _estimators(ptype, mode, seed, n_classes)
    if mode == "preview":
        specs = [s for s in specs if s[0] == "hist_gradient_boosting"]
    out = []
    for name, style, est, grid in specs:
        if style == "hgb":
            num, cat = _columns(kinds)
            # native categorical handling holds up to 255 categories; wider columns stay ordinal numbers
            card = cardinality or {}
            est.set_params(categorical_features=[False] * len(num) + [card.get(c, 0) < 250 for c in cat])
            if mode == "preview":
                est.set_params(max_iter=60)
            pre = preprocessor(kinds, "tree")
        else:
            pre = preprocessor(kinds, style)
        out.append((name, Pipeline([("prep", pre), ("model", est)]), grid))
    return out


class LabelCodec:
    """Class labels <-> 0..k-1 (XGBoost wants integer labels); kept with the build."""

    def __init__(self, y):
        self.classes = sorted(y.unique().tolist(), key=lambda v: (str(type(v)), v))

    def encode(self, y):
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([index[v] for v in y])


def objective(ptype):
    return {"binary": ("roc_auc", "maximize"), "multiclass": ("balanced_accuracy", "maximize"), "regression": ("rmse", "minimize")}[ptype]


def _downsample(xs, ys, extra, n=200):
    if len(xs) <= n:
        idx = np.arange(len(xs))
    else:
        idx = np.unique(np.linspace(0, len(xs) - 1, n).astype(int))
    return [float(xs[i]) for i in idx], [float(ys[i]) for i in idx], [float(extra[i]) if np.isfinite(extra[i]) else 1.0 for i in idx]


def evaluate(pipe, X, y_enc, ptype, detail=False):
    """Metrics on one split (y encoded 0..k-1 for classification). detail adds curves and the threshold table."""
    from sklearn import metrics as m

    out = {}
    if ptype == "regression":
        pred = pipe.predict(X)
        out["rmse"] = float(np.sqrt(m.mean_squared_error(y_enc, pred)))
        out["mae"] = float(m.mean_absolute_error(y_enc, pred))
        out["r2"] = float(m.r2_score(y_enc, pred))
        if detail:
            idx = np.arange(len(pred))[:: max(1, len(pred) // 500)]
            out["residuals"] = {"predicted": [float(pred[i]) for i in idx], "residual": [float(np.asarray(y_enc)[i] - pred[i]) for i in idx]}
        return out
    proba = pipe.predict_proba(X)
    pred = proba.argmax(axis=1)
    out["accuracy"] = float(m.accuracy_score(y_enc, pred))
    out["balanced_accuracy"] = float(m.balanced_accuracy_score(y_enc, pred))
    labels = list(range(proba.shape[1]))
    out["log_loss"] = float(m.log_loss(y_enc, proba, labels=labels))
    if ptype == "binary":
        out["precision"] = float(m.precision_score(y_enc, pred, zero_division=0))
        out["recall"] = float(m.recall_score(y_enc, pred, zero_division=0))
        out["f1"] = float(m.f1_score(y_enc, pred, zero_division=0))
        out["roc_auc"] = float(m.roc_auc_score(y_enc, proba[:, 1]))
    else:
        out["precision"] = float(m.precision_score(y_enc, pred, average="macro", zero_division=0))
        out["recall"] = float(m.recall_score(y_enc, pred, average="macro", zero_division=0))
        out["f1"] = float(m.f1_score(y_enc, pred, average="macro", zero_division=0))
        try:
            out["roc_auc"] = float(m.roc_auc_score(y_enc, proba, multi_class="ovr", labels=labels))
        except ValueError:
            pass
    if detail:
        out["confusion_matrix"] = m.confusion_matrix(y_enc, pred, labels=labels).tolist()
        if ptype == "binary":
            p1 = proba[:, 1]
            fpr, tpr, thr = m.roc_curve(y_enc, p1)
            f, t, th = _downsample(fpr, tpr, thr)
            out["roc_curve"] = {"fpr": f, "tpr": t, "thresholds": th}
            prec, rec, thr2 = m.precision_recall_curve(y_enc, p1)
            r, p, th2 = _downsample(rec[:-1], prec[:-1], thr2)
            out["pr_curve"] = {"recall": r, "precision": p, "thresholds": th2}
            y = np.asarray(y_enc)
            table = []
            for t in np.round(np.linspace(0, 1, 101), 2):
                yp = p1 >= t
                table.append({"threshold": float(t), "tp": int((yp & (y == 1)).sum()), "fp": int((yp & (y == 0)).sum()), "tn": int((~yp & (y == 0)).sum()), "fn": int((~yp & (y == 1)).sum())})
            out["threshold_table"] = table
    return out
