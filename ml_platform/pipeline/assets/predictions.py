"""Batch scoring and live performance: ``predictions`` scores each day's features with the champion
as of the run (the version is recorded per day, so a re-run after a champion change shows in the
day's materialization history, never silently); ``live_performance`` joins them to the outcomes once
they are known and checks for a real decay against the holdout recorded at deployment."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.features.engine import FeatureEngine
from ml_platform.features.finish_spark import spark_persisted
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.integrations.spark_progress import spark_progress
from ml_platform.integrations.spark_scoring import score_features
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import label_of
from ml_platform.ml.model_factory import spec_scores
from ml_platform.ml.monitoring import (
    MODEL_VERSION,
    PREDICTED_CLASS,
    SCORE,
    class_summary,
    day_performance,
    join_outcomes,
    known_metric,
    predictions_frame,
    reference_metrics,
    score_summary,
    scores_of,
    summary_text,
    with_ids,
)
from ml_platform.pipeline.assets.common import partition_label
from ml_platform.pipeline.checks.drift import (
    champion_profile,
    drift_result,
    judge_scores,
    prediction_drift_spec,
)
from ml_platform.pipeline.checks.performance import decay_results, performance_decay_spec
from ml_platform.pipeline.names import PipelineNames


def scoring_condition(pipeline: PipelineNames) -> dg.AutomationCondition:
    """Run when a day's features (or cleaned data) land or change, never past a failing blocking
    check upstream, for any day (``eager()`` alone looks only at the latest time window; 2013 is
    history). ``deployment`` is a dependency only so that a run of everything (Materialize all)
    scores after the champion is deployed; a new champion does not rescore history."""
    return (
        dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
    ).ignore(dg.AssetSelection.assets(pipeline.deployment_key))


def predictions_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    name = spec.model_name

    @dg.asset(
        key=pipeline.predictions_key,
        ins={"features": dg.AssetIn(pipeline.features_key, metadata={"lazy": True})},
        deps=[pipeline.cleaned_key(spec.main_table), pipeline.deployment_key],
        partitions_def=pipeline.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=scoring_condition(pipeline),
        check_specs=[prediction_drift_spec(pipeline)],
        output_required=False,
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"mlflow", "parquet"},
        description=f"Each day's features scored by `models:/{name}@champion` as of the run: one row "
        "per feature row with `prediction_id` (pipeline:day:row), `score` and `model_version`. "
        "Without a champion nothing is written. A champion change does not rescore old days; a re-run "
        "records the new version in that day's materialization history.",
    )
    def _predictions(
        context: dg.AssetExecutionContext,
        mlflow: MlflowRegistry,
        feature_engine: FeatureEngine,
        features: PartitionedParquet,
    ) -> Iterator[Any]:
        label = partition_label(context)
        version, profile = champion_profile(mlflow, name)
        if version is None:
            context.log.warning(f"{name} has no champion: nothing scored for {label}")
            yield drift_result(spec, "prediction_drift", pd.DataFrame(), None, None, lambda _: [])
            return
        uri = f"models:/{name}/{version}"  # the alias, resolved once, above
        classes = spec.class_names  # multiclass: predicted class, its probability, every class's
        written: Any
        if feature_engine.engine_for(spec) == "spark":
            # Spark end to end: spark_udf over the features files, predictions written by Spark; only
            # the day and score columns (multiclass: and the predicted class) come to the driver,
            # for the summaries and the drift check
            session = feature_engine.session()
            with spark_progress(session, f"predictions {name} v{version}", context.log.info):
                inputs = features.spark(session)
                feature_engine.size_shuffles(inputs, context.log.info)  # the write's shuffle by day
                with mlflow.fluent():
                    predicted = score_features(
                        session,
                        inputs,
                        uri,
                        spec.features.model_columns,
                        spec.task,
                        pipeline.name,
                        version,
                        classes,
                    )
                written = spark_persisted(predicted)
                few = [PARTITION_COLUMN, SCORE, *([PREDICTED_CLASS] if classes else [])]
                out = written.select(*few).toArrow().to_pandas(strings_to_categorical=True)
        else:
            frame = features.read(features.keys())
            model = mlflow.load_sklearn(uri)
            cols = list(getattr(model, "feature_names_in_", spec.features.model_columns))
            scores = spec_scores(spec, model, frame[cols]) if len(frame) else np.array([])
            out = written = predictions_frame(pipeline.name, frame, scores, version, classes)
            del frame
        threshold = spec.evaluation.decision_threshold
        for key in context.partition_keys:
            in_day = out[PARTITION_COLUMN].to_numpy() == key
            day = out[SCORE].to_numpy()[in_day]
            context.add_asset_metadata(
                {MODEL_VERSION: version, "dagster/row_count": len(day)}
                | score_summary(day, spec.metric_task, threshold)
                | (class_summary(out[PREDICTED_CLASS].to_numpy()[in_day], classes) if classes else {}),
                partition_key=key,
            )
        summary = score_summary(out[SCORE].to_numpy(), spec.metric_task, threshold)
        context.log.info(f"{label}: {len(out)} rows scored by {name} v{version} ({summary_text(summary)})")
        yield dg.Output(written, metadata={"model_uri": uri, "partitions": label})
        yield drift_result(spec, "prediction_drift", out, version, profile, judge_scores(spec, profile or {}))

    return _predictions


def live_performance_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    perf = spec.monitoring.performance
    metric = perf.metric or spec.gate.metric
    known_metric(spec.metric_task, metric)
    main = spec.main_table

    @dg.asset(
        key=pipeline.live_performance_key,
        ins={
            "predictions": dg.AssetIn(pipeline.predictions_key),
            "main": dg.AssetIn(
                pipeline.cleaned_key(main), metadata={"columns": [spec.target.column, PARTITION_COLUMN]}
            ),
        },
        partitions_def=pipeline.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=scoring_condition(pipeline),
        check_specs=[performance_decay_spec(pipeline, metric)],
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"pandas", "parquet"},
        description=f"The champion's {metric} per day (bootstrap 95% CI) once at least "
        f"{perf.labels_known_share:.0%} of the day's rows have an outcome, from the predictions joined "
        f"to `{main.name}` on prediction id; one row per day.",
    )
    def _live(
        context: dg.AssetExecutionContext,
        mlflow: MlflowRegistry,
        predictions: pd.DataFrame,
        main: pd.DataFrame,
    ) -> Iterator[Any]:
        outcomes = with_ids(pipeline.name, main)
        outcomes["label"] = label_of(spec, main).to_numpy()
        joined = join_outcomes(predictions, outcomes)
        references: dict[str, dict[str, float]] = {}
        rows = []
        for key in context.partition_keys:
            day = joined[joined[PARTITION_COLUMN] == key]
            version = str(day[MODEL_VERSION].iloc[0]) if len(day) else ""
            if version and version not in references:
                run_id = mlflow.model_version(spec.model_name, version).run_id
                references[version] = reference_metrics(mlflow.run_metrics(run_id), metric)
            result = day_performance(
                spec.metric_task,
                key,
                scores_of(day, spec.class_names),
                day["label"].to_numpy(),
                perf.labels_known_share,
                perf.min_rows,
                perf.bootstrap_samples,
                spec.evaluation.decision_threshold,
            )
            record = result.record(metric, version) | references.get(version, reference_metrics({}, metric))
            rows.append(record)
            context.add_asset_metadata(
                {
                    k: v
                    for k, v in record.items()
                    if k != PARTITION_COLUMN and (not isinstance(v, float) or np.isfinite(v))
                },
                partition_key=key,
            )
        frame = pd.DataFrame(rows)
        yield dg.Output(frame, metadata={"partitions": partition_label(context), "metric": metric})
        yield from decay_results(spec, metric, frame)

    return _live
