"""Features: one row per main-table row, only information known at prediction time."""

import dagster as dg
import pandas as pd

from ml_platform.assets.common import Pipeline, partition_label
from ml_platform.assets.progress import Progress
from ml_platform.k8s import FEATURES_STEP
from ml_platform.resources.spark import FeatureEngine


def features_asset(pipeline: Pipeline) -> dg.AssetsDefinition:
    spec = pipeline.spec
    main = spec.main_table
    ins = {"main": dg.AssetIn(pipeline.cleaned_key(main))}
    for table in spec.auxiliary_tables:
        ins[table.name] = dg.AssetIn(pipeline.cleaned_key(table))

    @dg.asset(
        key=pipeline.features_key,
        ins=ins,
        partitions_def=pipeline.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"pandas", "parquet"},
        op_tags=FEATURES_STEP,
        description=f"Model inputs for `{main.name}` built by the `{spec.features.builder}` builder "
        f"({len(spec.features.model_columns)} columns), plus the label `{spec.target.name}` and "
        "slice columns. Leak-free: only what is known before prediction time.",
    )
    def _features(
        context: dg.AssetExecutionContext,
        feature_engine: FeatureEngine,
        main: pd.DataFrame,
        **aux: pd.DataFrame,
    ) -> dg.Output[pd.DataFrame]:
        engine = feature_engine.engine_for(spec)
        progress = Progress(context.log, f"features {spec.name}", len(context.partition_keys))
        frame = feature_engine.build(spec, main, aux)
        progress.advance(len(context.partition_keys), len(main))
        label = spec.target.name
        return dg.Output(
            frame,
            metadata={
                "dagster/row_count": len(frame),
                "rows_with_label": int(frame[label].notna().sum()),
                "rows_without_label": int(frame[label].isna().sum()),
                "positive_rate": float(frame[label].mean())
                if spec.task == "classification" and len(frame)
                else 0.0,
                "partitions": partition_label(context),
                "engine": engine,
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(str(c), str(t)) for c, t in frame.dtypes.items()]
                ),
            },
        )

    return _features
