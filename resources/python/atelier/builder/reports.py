"""Explanations of a fitted pipeline: column impact, partial dependence, single-row contributions, bias."""

import numpy as np
import pandas as pd


def score_fn(ptype):
    from sklearn import metrics as m

    if ptype == "binary":
        return "roc_auc", lambda est, X, y: m.roc_auc_score(y, est.predict_proba(X)[:, 1])
    if ptype == "multiclass":
        return "balanced_accuracy", lambda est, X, y: m.balanced_accuracy_score(y, est.predict(X))
    return "r2", lambda est, X, y: m.r2_score(y, est.predict(X))


def column_impact(pipe, X, y_enc, ptype, seed, repeats=5):
    """Permutation importance of each used column on the test split: drop in score, with a 95% interval."""
    from sklearn.inspection import permutation_importance

    name, scorer = score_fn(ptype)
    r = permutation_importance(pipe, X, y_enc, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1)
    rows = []
    for i, c in enumerate(X.columns):
        vals = r.importances[i]
        half = 1.96 * float(vals.std(ddof=1)) / np.sqrt(len(vals)) if len(vals) > 1 else 0.0
        mean = float(vals.mean())
        rows.append({"column": c, "importance": mean, "low": mean - half, "high": mean + half, "std": float(vals.std())})
    rows.sort(key=lambda r: -r["importance"])
    return {"scoring": name, "repeats": repeats, "columns": rows}


def predict_scores(pipe, X, ptype):
    """The number shown for a row: P(positive class) for binary, the top class probability for multiclass, the value for regression."""
    if ptype == "regression":
        return pipe.predict(X).astype(float)
    proba = pipe.predict_proba(X)
    return proba[:, 1] if ptype == "binary" else proba.max(axis=1)


def partial_dependence(pipe, X, kinds, columns, ptype, seed, rows=400, points=20):
    """Average prediction as one column is set to each grid value for a sample of test rows."""
    sample = X.sample(n=min(rows, len(X)), random_state=seed)
    out = []
    for c in columns:
        if kinds[c] == "numeric":
            vals = np.unique(np.nanquantile(sample[c].astype(float), np.linspace(0.02, 0.98, points)))
            grid = [float(v) for v in vals]
        else:
            grid = [str(v) for v in sample[c].value_counts().index[:points]]
        ys = []
        for v in grid:
            Xv = sample.copy()
            Xv[c] = v
            ys.append(float(np.mean(predict_scores_for_pd(pipe, Xv, ptype))))
        out.append({"column": c, "kind": kinds[c], "values": grid, "average": ys})
    return out


def predict_scores_for_pd(pipe, X, ptype):
    if ptype == "multiclass":
        return pipe.predict_proba(X)[:, -1]
    return predict_scores(pipe, X, ptype)


def typical_row(X, kinds):
    """Median of each number, most common value of each category (the form's starting row)."""
    row = {}
    for c, k in kinds.items():
        s = X[c].dropna()
        if s.empty:
            row[c] = None
        elif k == "numeric":
            v = float(s.median())
            row[c] = int(v) if float(v).is_integer() else v
        else:
            row[c] = str(s.mode().iloc[0])
    return row


def contributions(pipe, row_df, baseline, kinds, ptype):
    """Per column: how much the prediction moves when that column takes the typical value instead (sign: pushes up/down)."""
    base = float(predict_scores(pipe, row_df, ptype)[0])
    variants = []
    for c in kinds:
        r = row_df.copy()
        r[c] = baseline[c]
        variants.append(r)
    alt = predict_scores(pipe, pd.concat(variants, ignore_index=True), ptype)
    out = [{"column": c, "value": _jsonable(row_df[c].iloc[0]), "contribution": base - float(alt[i])} for i, c in enumerate(kinds)]
    out.sort(key=lambda r: -abs(r["contribution"]))
    return out


def _jsonable(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def bias_report(groups, y_true, y_pred, positive_label, column):
    """SageMaker Clarify's pre- and post-training metrics, each group (facet d) against all others (facet a)."""
    g = pd.Series(groups).astype(str).fillna("(missing)").reset_index(drop=True)
    yt = np.asarray(y_true) == 1
    yp = np.asarray(y_pred) == 1
    n = len(g)
    rows = []
    for value, idx in g.groupby(g).groups.items():
        d = np.zeros(n, dtype=bool)
        d[np.asarray(list(idx))] = True
        a = ~d
        nd, na = int(d.sum()), int(a.sum())
        qd, qa = _rate(yt[d]), _rate(yt[a])
        pd_, pa = _rate(yp[d]), _rate(yp[a])
        rec_d, rec_a = _rate(yp[d & yt]), _rate(yp[a & yt])
        rows.append(
            {
                "group": value,
                "size": nd,
                "share": nd / n,
                "positive_rate": qd,
                "predicted_positive_rate": pd_,
                "accuracy": _rate((yt == yp)[d]),
                "recall": rec_d,
                "CI": (na - nd) / n,
                "DPL": _diff(qa, qd),
                "DI": (pd_ / pa) if (pa not in (None, 0) and pd_ is not None) else None,
                "DPPL": _diff(pa, pd_),
                "equal_opportunity_difference": _diff(rec_a, rec_d),
            }
        )
    rows.sort(key=lambda r: -r["size"])
    return {
        "column": column,
        "positive_label": positive_label,
        "metrics": {
            "CI": "Class imbalance: (n_a - n_d) / n; positive when the group is under-represented",
            "DPL": "Difference in proportions of labels: positive rate of the others minus this group's, in the data",
            "DI": "Disparate impact: predicted positive rate of this group divided by the others'",
            "DPPL": "Difference in positive proportions in predicted labels: the others' minus this group's",
            "equal_opportunity_difference": "Recall of the others minus this group's recall (Clarify's RD)",
        },
        "groups": rows,
    }


def _rate(mask):
    return float(mask.mean()) if len(mask) else None


def _diff(a, b):
    return None if a is None or b is None else a - b
