"""The no-code model builder's Python side: run in the user's interpreter by the app, talking JSON lines.

    python -m atelier.builder check
    python -m atelier.builder build  config.json     # preview | quick | standard
    python -m atelier.builder bias   config.json
    python -m atelier.builder batch  config.json
    python -m atelier.builder notebook config.json
    python -m atelier.builder serve  <build dir>     # predictions: one JSON request per stdin line

Every line on stdout is one JSON object with a "type": progress, candidate, result, error. Only
scikit-learn, pandas and numpy are needed (XGBoost is used when importable).
"""
