"""Asset jobs per pipeline: ingest (partitioned), train (model + report + gate), deploy."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from ml_platform.pipeline.names import DEPLOY_CONCURRENCY_TAG, PipelineNames


@dataclass(frozen=True)
class PipelineJobs:
    ingest: dg.UnresolvedAssetJobDefinition
    lookups: dg.UnresolvedAssetJobDefinition | None
    train: dg.UnresolvedAssetJobDefinition
    deploy: dg.UnresolvedAssetJobDefinition
    score: dg.UnresolvedAssetJobDefinition | None = None
    ingest_score: dg.UnresolvedAssetJobDefinition | None = None  # the new-data sensor's, see SensorsSpec


def pipeline_jobs(
    pipeline: PipelineNames, train_executor: dg.ExecutorDefinition | None = None
) -> PipelineJobs:
    partitioned = [t for t in pipeline.tables if t.partitioned]
    static = [t for t in pipeline.tables if not t.partitioned]

    def table_keys(tables: list) -> list[dg.AssetKey]:  # type: ignore[type-arg]
        return [
            k
            for t in tables
            for k in (pipeline.raw_key(t), pipeline.cleaned_key(t), pipeline.quarantine_key(t))
        ]

    ingest = dg.AssetSelection.assets(*table_keys(partitioned), pipeline.features_key)
    scoring = dg.AssetSelection.assets(pipeline.predictions_key, pipeline.live_performance_key)
    return PipelineJobs(
        ingest=dg.define_asset_job(
            f"{pipeline.name}_ingest",
            selection=ingest,
            description="Ingest, clean and featurize daily partitions (one run for a whole range).",
        ),
        ingest_score=dg.define_asset_job(
            f"{pipeline.name}_ingest_and_score",
            selection=ingest | scoring,
            description="Ingest, clean and featurize new days and score them with the champion in the "
            "same run (no champion: nothing scored), with every check of those assets; the new-data "
            "sensor's job, one run worker per delivery instead of two.",
        ),
        lookups=dg.define_asset_job(
            f"{pipeline.name}_lookups",
            selection=dg.AssetSelection.assets(*table_keys(static)),
            description="Refresh unpartitioned lookup tables.",
        )
        if static
        else None,
        train=dg.define_asset_job(
            f"{pipeline.name}_train",
            selection=dg.AssetSelection.assets(pipeline.model_key, pipeline.report_key),
            executor_def=train_executor,
            description="Train a challenger, evaluate it against the champion and run the deploy gate.",
        ),
        deploy=dg.define_asset_job(
            f"{pipeline.name}_deploy",
            selection=dg.AssetSelection.assets(pipeline.deployment_key),
            tags={DEPLOY_CONCURRENCY_TAG: pipeline.name},
            description="Promote a gate-approved version to champion (launched by the deploy sensor).",
        ),
        score=dg.define_asset_job(
            f"{pipeline.name}_score",
            selection=scoring,
            description="Score days with the current champion and compute live performance (backfills; "
            "new days are scored by declarative automation).",
        ),
    )
