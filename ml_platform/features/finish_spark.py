"""``finish_features`` and ``label_of`` (``ml/features.py``) on Spark DataFrames: the builder's
columns selected and typed as the pandas path stores them, the label and partition from the main
table joined back on ``_rid``. The result keeps ``_rid`` so the writer keeps each day's row order."""

from __future__ import annotations

from typing import Any

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.transforms import RID
from ml_platform.specs.models import PipelineSpec


def label_column(spec: PipelineSpec, main: Any) -> Any:
    """The target per row as a Spark column (null where undefined), as ``label_of``."""
    from pyspark.sql import functions as F

    target = spec.target
    types = dict(main.dtypes)
    values = F.col(target.column)
    if target.positive_class is not None or target.classes is not None:
        if target.classes is not None:
            classes = [str(c) for c in target.classes]
            unknown = [
                r[0]
                for r in main.select(values.cast("string").alias("v"))
                .where(F.col("v").isNotNull() & ~F.col("v").isin(classes))
                .distinct()
                .limit(5)
                .collect()
            ]
            if unknown:
                raise ValueError(
                    f"target.column '{target.column}' has value(s) {sorted(unknown)} not in "
                    f"target.classes {classes}"
                )
            positive = classes[-1]
        else:
            positive = str(target.positive_class)
        return F.when(values.isNotNull(), (_as_text(values, types[target.column]) == positive).cast("double"))
    if types[target.column] == "string":
        field = "target.greater_than" if target.greater_than is not None else "task regression"
        raise ValueError(f"target.column '{target.column}' holds non-numbers, which {field} needs")
    raw = values.cast("double")
    if spec.task == "classification":
        assert target.greater_than is not None
        return F.when(raw.isNotNull(), (raw > float(target.greater_than)).cast("double"))
    return raw


def _as_text(column: Any, dtype: str) -> Any:
    """Python's ``str()`` of a value, for the types where Spark's cast differs (booleans)."""
    from pyspark.sql import functions as F

    if dtype == "boolean":
        return F.when(column, F.lit("True")).otherwise(F.lit("False"))
    return column.cast("string")


def finish_features_spark(spec: PipelineSpec, main: Any, built: Any) -> Any:
    """Model + slice columns (typed), label, partition and ``_rid``: the pandas path's columns."""
    from pyspark.sql import functions as F

    f = spec.features
    wanted = list(dict.fromkeys([*f.model_columns, *f.slice_columns]))
    missing = [c for c in wanted if c not in built.columns]
    if missing:
        raise KeyError(
            f"features.builder '{f.builder}' did not produce columns {missing} that "
            "features.categorical/numeric/slice_columns name"
        )
    types = dict(built.dtypes)

    def typed(column: str) -> Any:
        c = F.col(column)
        if column in f.numeric:
            d = c.cast("double")
            return F.when(~F.isnan(d), d).alias(column)
        if column in f.categorical:  # pandas astype(str): a missing text is "None", a number "nan"
            if types[column] == "string":
                return F.coalesce(c, F.lit("None")).alias(column)
            return F.coalesce(_as_text(c, types[column]), F.lit("nan")).alias(column)
        return c

    labels = main.select(
        F.col(RID).alias("__lrid"),
        label_column(spec, main).alias(spec.target.name),
        F.col(PARTITION_COLUMN).cast("string").alias(PARTITION_COLUMN),
    )
    out = built.select(RID, *(typed(c) for c in wanted))
    return out.join(labels, F.col(RID) == F.col("__lrid"), "inner").select(
        *wanted, spec.target.name, PARTITION_COLUMN, RID
    )


def spark_persisted(frame: Any) -> Any:
    """``frame`` kept on local disk once computed: the partition counts and the write read it, the
    joins run once, and the JVM heap does not hold a year of features."""
    from pyspark import StorageLevel

    return frame.persist(StorageLevel.DISK_ONLY)


def spark_partition_counts(frame: Any, label: str) -> dict[str, dict[str, int | float]]:
    """Per partition: rows, labelled rows and positives (one small aggregation, collected)."""
    from pyspark.sql import functions as F

    rows = frame.groupBy(PARTITION_COLUMN).agg(
        F.count(F.lit(1)).alias("dagster/row_count"),
        F.count(label).alias("rows_with_label"),
        F.sum(F.when(F.coalesce(F.col(label), F.lit(0.0)) != 0, 1).otherwise(0)).alias("positives"),
    )
    return {
        str(r[PARTITION_COLUMN]): {
            k: int(r[k] or 0) for k in ("dagster/row_count", "rows_with_label", "positives")
        }
        for r in rows.collect()
    }
