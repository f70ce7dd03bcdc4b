"""ml_platform: asset-based ML pipelines on Dagster with MLflow as the model registry.

Layout: ``specs/`` (pipeline specs), ``registry.py`` (extension points), ``pipeline/`` (Dagster
assets, checks, sensors, jobs), ``sources/``, ``features/``, ``ml/`` (pure ML logic), ``io/``,
``integrations/``, ``environments/``, ``ops/`` (CLI); ``definitions.py`` is the Dagster entry point."""
