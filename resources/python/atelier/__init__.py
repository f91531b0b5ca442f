"""Atelier's Python helpers, shipped with the app and put on the PYTHONPATH of local kernels and jobs.

`atelier.models` saves scikit-learn / XGBoost models in MLflow's model format and logs them to a
run of the app's tracking server, without the `mlflow` package.
"""

__version__ = "0.1.0"
