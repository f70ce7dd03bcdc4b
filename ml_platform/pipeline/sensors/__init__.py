"""Sensors: new data (ingest runs per delivery), retrain, deploy (gate results → deploy runs or
rejections) and alerts (notifications), plus the shared reader of check evaluations."""
