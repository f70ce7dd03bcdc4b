"""Batch scoring on Spark: a registered model version applied to a features DataFrame through
``mlflow.pyfunc.spark_udf`` (Arrow batches on the executors, nothing collected), giving the same
columns as the pandas path's ``ml.monitoring.predictions_frame``. Usable on its own, e.g. by a
benchmark: ``score_features(session, features, "models:/m/3", columns, "classification", ...)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.monitoring import MODEL_VERSION, PREDICTED_CLASS, PREDICTION_ID, ROW, SCORE, proba_column


def scoring_udf(session: Any, model_uri: str, task: str) -> Any:
    """The model as a Spark UDF of its pyfunc (``predict_proba`` for classifiers, as logged): an
    array of class probabilities for classification, a number for regression. The current MLflow
    tracking URI resolves ``models:/`` (call it within the registry's context); the model is
    downloaded once, here, and shipped to the executors."""
    import mlflow.pyfunc

    result = "array<double>" if task == "classification" else "double"
    return mlflow.pyfunc.spark_udf(session, model_uri, result_type=result, env_manager="local")


def score_frame(
    features: Any,
    udf: Any,
    columns: Sequence[str],
    task: str,
    classes: Sequence[str] | None = None,
    seen: Sequence[str] | None = None,
) -> Any:
    """``features`` plus a ``score`` column: the positive-class probability or the prediction.
    Multiclass (``classes`` in target order; ``seen``: the model's probability columns, the classes
    its training window held): ``proba_<class>`` for every class (0 for an unseen one), the most
    probable class (the first of equals, as numpy's argmax) and its probability as ``score``."""
    from pyspark.sql import functions as F

    out = udf(F.struct(*(F.col(c) for c in columns)))
    if classes is None:
        score = F.element_at(out, -1) if task == "classification" else out
        return features.withColumn(SCORE, score.cast("double"))
    order = list(seen if seen is not None else classes)
    scored = features.withColumn("_proba", out)  # one UDF call per row; the columns below read it
    for name in classes:
        at = order.index(name) + 1 if name in order else None
        prob = F.element_at(F.col("_proba"), at).cast("double") if at else F.lit(0.0)
        scored = scored.withColumn(proba_column(name), prob)
    probs = [F.col(proba_column(c)) for c in classes]
    scored = scored.withColumn(SCORE, F.greatest(*probs) if len(probs) > 1 else probs[0])
    picks = [F.when(F.col(proba_column(c)) == F.col(SCORE), F.lit(c)) for c in classes]
    return scored.withColumn(PREDICTED_CLASS, F.coalesce(*picks)).drop("_proba")


def predictions_frame(
    scored: Any,
    pipeline: str,
    version: str,
    row: str = "_day_row",
    classes: Sequence[str] | None = None,
) -> Any:
    """The pandas path's prediction columns (``<pipeline>:<day>:<row>`` ids, the row within the
    day's features file in ``row``), keeping ``_rid`` (when present) for the writer's row order."""
    from pyspark.sql import functions as F

    keep = [c for c in ("_rid",) if c in scored.columns]
    per_class = [PREDICTED_CLASS, *(proba_column(c) for c in classes)] if classes else []
    return scored.select(
        F.format_string(f"{pipeline.replace('%', '%%')}:%s:%06d", F.col(PARTITION_COLUMN), F.col(row)).alias(
            PREDICTION_ID
        ),
        F.col(PARTITION_COLUMN).cast("string").alias(PARTITION_COLUMN),
        F.col(row).cast("long").alias(ROW),
        F.col(SCORE),
        *(F.col(c) for c in per_class),
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
    classes: Sequence[str] | None = None,
) -> Any:
    """Predictions of ``model_uri`` for a features DataFrame read by ``PartitionedParquet.spark``
    (lazy: Spark computes them when they are written or aggregated). Multiclass: ``classes`` (the
    spec's, in target order); the model's own probability columns are read from its MLmodel
    ``metadata.classes``."""
    udf = scoring_udf(session, model_uri, task)
    seen = None
    if classes is not None:
        from mlflow.models import get_model_info

        seen = (get_model_info(model_uri).metadata or {}).get("classes") or list(classes)
    scored = score_frame(features, udf, columns, task, classes, seen)
    return predictions_frame(scored, pipeline, version, classes=classes)
