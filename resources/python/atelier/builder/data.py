"""Reading the table, inferring the problem type, checking the input and splitting it."""

import numpy as np
import pandas as pd


from .errors import BuildError

MIN_ROWS = 50


def read_table(path, columns=None, sample_rows=None, seed=0):
    df = pd.read_csv(path, usecols=columns, low_memory=False)
    notice = None
    if sample_rows and len(df) > sample_rows:
        notice = f"The table has {len(df):,} rows; the build uses a random sample of {sample_rows:,}."
        df = df.sample(n=sample_rows, random_state=seed).reset_index(drop=True)
    return df, notice


def infer_problem_type(y):
    y = y.dropna()
    n = y.nunique()
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "binary" if n <= 2 else "multiclass"
    if n <= 2:
        return "binary"
    if pd.api.types.is_integer_dtype(y) or (y == y.round()).all():
        if n <= 20 and n <= max(3, len(y) * 0.05):
            return "multiclass"
    return "regression"


def feature_kinds(df, features):
    """numeric or categorical, by pandas dtype (CSV strings are categorical; 0/1 flags numeric)."""
    kinds = {}
    for c in features:
        s = df[c]
        kinds[c] = "numeric" if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) else "categorical"
    return kinds


def coerce(df, kinds):
    """The frame with each feature in its kind's type (rows typed in a form arrive as strings or numbers)."""
    out = pd.DataFrame(index=df.index)
    for c, k in kinds.items():
        s = df[c] if c in df else pd.Series([np.nan] * len(df), index=df.index)
        if k == "numeric":
            out[c] = pd.to_numeric(s, errors="coerce").astype(float)
        else:
            out[c] = s.where(s.isna(), s.astype(str)).astype(object)
    return out


def prepare(df, target, features, problem_type=None):
    """Checks the input before any training: returns X, y, kinds, problem type, notices."""
    notices = []
    missing = [c for c in [target, *features] if c not in df.columns]
    if missing:
        raise BuildError("BUILDER_BAD_INPUT", f"Columns not in the table: {', '.join(missing)}", columns=missing)
    if target in features:
        raise BuildError("BUILDER_BAD_INPUT", f"The target {target} cannot also be an input column")
    if not features:
        raise BuildError("BUILDER_BAD_INPUT", "Tick at least one input column")
    n_missing = int(df[target].isna().sum())
    if n_missing:
        df = df[df[target].notna()].reset_index(drop=True)
        notices.append(f"{n_missing:,} rows with no value in {target} were dropped.")
    if len(df) < MIN_ROWS:
        raise BuildError("BUILDER_TOO_FEW_ROWS", f"Only {len(df)} rows have a {target}: at least {MIN_ROWS} are needed to train, validate and test", rows=len(df))
    y = df[target]
    ptype = problem_type or infer_problem_type(y)
    if ptype != "regression":
        if y.nunique() < 2:
            raise BuildError("BUILDER_ONE_CLASS", f"{target} has only one value ({y.iloc[0]!r}): a model needs at least two classes to tell apart")
        if ptype == "binary" and y.nunique() > 2:
            raise BuildError("BUILDER_BAD_INPUT", f"{target} has {y.nunique()} values: choose multiclass, not binary")
        counts = y.value_counts()
        if counts.min() < 3:
            raise BuildError("BUILDER_TOO_FEW_ROWS", f"The class {counts.idxmin()!r} of {target} has {counts.min()} rows: each class needs at least 3 to be split", cls=str(counts.idxmin()))
    else:
        y = pd.to_numeric(y, errors="coerce")
        if y.isna().any():
            raise BuildError("BUILDER_BAD_INPUT", f"{target} is not numeric: choose binary or multiclass")
    kinds = feature_kinds(df, features)
    dropped = []
    for c in features:
        s = df[c]
        if s.isna().all():
            dropped.append(c)
            notices.append(f"{c} is empty in every row and is not used.")
        elif s.nunique(dropna=True) <= 1:
            dropped.append(c)
            notices.append(f"{c} has the same value in every row and is not used.")
    kept = [c for c in features if c not in dropped]
    if not kept:
        raise BuildError("BUILDER_BAD_INPUT", "No usable input column is left (all are empty or constant)")
    kinds = {c: kinds[c] for c in kept}
    X = coerce(df, kinds)
    if ptype != "regression":
        y = y.astype(str) if not pd.api.types.is_numeric_dtype(y) else y
    return X, y.reset_index(drop=True), kinds, ptype, notices, dropped, df


def split(X, y, ptype, train=0.7, val=0.15, test=0.15, seed=42, stratify=True):
    """Train/validation/test split, stratified for classification, seeded (the notebook repeats it)."""
    from sklearn.model_selection import train_test_split

    total = train + val + test
    test_frac = test / total
    val_frac = val / (train + val)
    strat = y if (stratify and ptype != "regression") else None
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_frac, random_state=seed, stratify=strat)
    strat = y_rest if (stratify and ptype != "regression") else None
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=val_frac, random_state=seed, stratify=strat)
    return X_train, X_val, X_test, y_train, y_val, y_test
