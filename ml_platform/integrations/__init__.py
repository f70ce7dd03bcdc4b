"""One module (or package) per external system: MLflow (tracking + registry), notification
channels, Spark settings, Kubernetes step config, and the local Dagster instance storage."""
