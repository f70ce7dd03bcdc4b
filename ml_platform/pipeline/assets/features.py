"""Features: one row per main-table row, only information known at prediction time."""

from typing import Any

import dagster as dg

from ml_platform.features.engine import FeatureEngine
from ml_platform.features.finish_spark import spark_partition_counts, spark_persisted
from ml_platform.integrations.k8s import FEATURES_STEP
from ml_platform.integrations.spark_progress import spark_progress
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.memory import spare_collector
from ml_platform.pipeline.assets.common import partition_label
from ml_platform.pipeline.assets.partition_metadata import (
    ROW_COUNT,
    RUN_PARTITIONS,
    add_partition_metadata,
    partition_counts,
)
from ml_platform.pipeline.assets.progress import Progress
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.models import PipelineSpec

LAZY = {"lazy": True}


def features_schema(spec: PipelineSpec) -> dg.TableSchema:
    """Columns of the features table, from the spec (``finish_features`` casts to these types)."""
    main = spec.main_table.columns
    columns = {c: "str" for c in spec.features.categorical} | {c: "float64" for c in spec.features.numeric}
    for c in spec.features.slice_columns:
        columns.setdefault(c, main[c].dtype if c in main else "str")
    columns |= {spec.target.name: "float64", PARTITION_COLUMN: "str"}
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype) for name, dtype in columns.items()])


def features_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    main = spec.main_table
    # handles, read by the engine: pandas reads them whole, Spark end to end reads the files itself
    ins = {"main": dg.AssetIn(pipeline.cleaned_key(main), metadata=LAZY)}
    for table in spec.auxiliary_tables:
        ins[table.name] = dg.AssetIn(pipeline.cleaned_key(table), metadata=LAZY)

    @dg.asset(
        key=pipeline.features_key,
        ins=ins,
        partitions_def=pipeline.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"pandas", "parquet"},
        op_tags=FEATURES_STEP,
        metadata={"dagster/column_schema": features_schema(spec)},
        description=f"Model inputs for `{main.name}` built by the `{spec.features.builder}` builder "
        f"({len(spec.features.model_columns)} columns), plus the label `{spec.target.name}` and "
        "slice columns. Leak-free: only what is known before prediction time.",
    )
    @spare_collector
    def _features(
        context: dg.AssetExecutionContext,
        feature_engine: FeatureEngine,
        main: PartitionedParquet,
        **aux: PartitionedParquet,
    ) -> dg.Output[Any]:
        engine = feature_engine.engine_for(spec)
        n_keys = len(context.partition_keys)
        if feature_engine.end_to_end(spec):
            context.log.info(
                f"features {spec.name}: building {n_keys} partitions with Spark end to end "
                "(Spark reads the cleaned files and writes the features; nothing collected)"
            )
            with spark_progress(feature_engine.session(), f"features {spec.name}", context.log.info):
                frame: Any = spark_persisted(feature_engine.build_frames(spec, main, aux, context.log.info))
                per_key = spark_partition_counts(frame, spec.target.name)
            rows = sum(int(r[ROW_COUNT]) for r in per_key.values())
        else:
            main_frame = main.read(main.keys())
            aux_frames = {n: t.read(t.keys()) for n, t in aux.items()}
            progress = Progress(context.log, f"features {spec.name}", n_keys)
            processes = feature_engine.processes_for(spec, main_frame) if engine == "pandas" else 1
            how = f"in {processes} processes, whole days each" if processes > 1 else "one vectorized pass"
            context.log.info(
                f"features {spec.name}: building {n_keys} partitions from {len(main_frame):,} "
                f"{spec.main_table.name} rows with the {engine} engine ({how})"
            )
            frame = feature_engine.build(spec, main_frame, aux_frames)
            progress.advance(n_keys, len(main_frame))
            del main_frame, aux_frames
            label = frame[spec.target.name]
            counts = {"rows_with_label": label.notna(), "positives": label.fillna(0).astype(bool)}
            per_key = partition_counts(frame, counts)
            rows = len(frame)
        for row in per_key.values():
            positives = row.pop("positives")
            if spec.metric_task == "classification":  # binary; multiclass labels are class indices
                row["positive_rate"] = (
                    round(positives / row["rows_with_label"], 4) if row["rows_with_label"] else 0.0
                )
        defaults: dict[str, int | float] = {ROW_COUNT: 0, "rows_with_label": 0}
        if spec.metric_task == "classification":
            defaults["positive_rate"] = 0.0
        add_partition_metadata(context, per_key, defaults)
        run_wide: dict[str, Any] = {
            RUN_PARTITIONS: partition_label(context),
            "rows_in_run": rows,
            "engine": engine,
        }
        return dg.Output(frame, metadata=run_wide)

    return _features
