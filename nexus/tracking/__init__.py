"""MLflow tracking: the Hydra callback, the recorder, its helper process and the store."""
