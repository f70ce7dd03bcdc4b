"""Batch scoring on Spark: a registered model version applied to a features DataFrame through
``mlflow.pyfunc.spark_udf`` (Arrow batches on the executors, nothing collected), giving the same
columns as the pandas path's ``ml.monitoring.predictions_frame``. Usable on its own, e.g. by a
benchmark: ``score_features(session, features, "models:/m/3", columns, "classification", ...)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.monitoring import MODEL_VERSION, PREDICTION_ID, ROW, SCORE


def scoring_udf(session: Any, model_uri: str, task: str) -> Any:
    """The model as a Spark UDF of its pyfunc (``predict_proba`` for classifiers, as logged): an
    array of class probabilities for classification, a number for regression. The current MLflow
    tracking URI resolves ``models:/`` (call it within the registry's context); the model is
    downloaded once, here, and shipped to the executors."""
    import mlflow.pyfunc

    result = "array<double>" if task == "classification" else "double"
    return mlflow.pyfunc.spark_udf(session, model_uri, result_type=result, env_manager="local")


def score_frame(features: Any, udf: Any, columns: Sequence[str], task: str) -> Any:
    """``features`` plus a ``score`` column: the positive-class probability or the prediction."""
    from pyspark.sql import functions as F

    out = udf(F.struct(*(F.col(c) for c in columns)))
    score = F.element_at(out, -1) if task == "classification" else out
    return features.withColumn(SCORE, score.cast("double"))


def predictions_frame(scored: Any, pipeline: str, version: str, row: str = "_day_row") -> Any:
    """The pandas path's prediction columns (``<pipeline>:<day>:<row>`` ids, the row within the
    day's features file in ``row``), keeping ``_rid`` (when present) for the writer's row order."""
    from pyspark.sql import functions as F

    keep = [c for c in ("_rid",) if c in scored.columns]
    return scored.select(
        F.format_string(f"{pipeline.replace('%', '%%')}:%s:%06d", F.col(PARTITION_COLUMN), F.col(row)).alias(
            PREDICTION_ID
        ),
        F.col(PARTITION_COLUMN).cast("string").alias(PARTITION_COLUMN),
        F.col(row).cast("long").alias(ROW),
        F.col(SCORE),
        F.lit(str(version)).alias(MODEL_VERSION),
        *keep,
    )


def score_features(
    session: Any,
    features: Any,
    model_uri: str,
    columns: Sequence[str],
    task: str,
    pipeline: str,
    version: str,
) -> Any:
    """Predictions of ``model_uri`` for a features DataFrame read by ``PartitionedParquet.spark``
    (lazy: Spark computes them when they are written or aggregated)."""
    udf = scoring_udf(session, model_uri, task)
    return predictions_frame(score_frame(features, udf, columns, task), pipeline, version)
