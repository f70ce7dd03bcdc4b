"""Build one pipeline's assets, checks, jobs, schedules and sensors from its spec."""

from __future__ import annotations

import dagster as dg

from ml_platform.pipeline.assets.cleaning import cleaned_asset
from ml_platform.pipeline.assets.deployment import deployment_asset
from ml_platform.pipeline.assets.evaluation import evaluation_asset
from ml_platform.pipeline.assets.features import features_asset
from ml_platform.pipeline.assets.ingestion import raw_asset
from ml_platform.pipeline.assets.predictions import live_performance_asset, predictions_asset
from ml_platform.pipeline.assets.training import model_asset
from ml_platform.pipeline.checks.drift import drift_checks
from ml_platform.pipeline.checks.gate import deploy_gate_check
from ml_platform.pipeline.code_versions import with_code_versions
from ml_platform.pipeline.jobs import pipeline_jobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.previews import deliberate_previews_accepted
from ml_platform.pipeline.schedules import pipeline_schedules
from ml_platform.pipeline.sensors.alerts import champion_alert, gate_rejection_alert, run_failure_alert
from ml_platform.pipeline.sensors.deploy import deploy_sensor
from ml_platform.pipeline.sensors.monitoring import drift_alert, scoring_automation
from ml_platform.pipeline.sensors.new_data import new_data_sensor
from ml_platform.pipeline.sensors.retrain import blocking_check_keys, retrain_sensor
from ml_platform.specs.models import PipelineSpec


def pipeline_assets(pipeline: PipelineNames) -> list[dg.AssetsDefinition]:
    with deliberate_previews_accepted():
        return _assets(pipeline)


def _assets(pipeline: PipelineNames) -> list[dg.AssetsDefinition]:
    tables = pipeline.tables
    assets = [
        *(raw_asset(pipeline, t) for t in tables),
        *(cleaned_asset(pipeline, t) for t in tables),
        features_asset(pipeline),
        model_asset(pipeline),
        evaluation_asset(pipeline),
        deployment_asset(pipeline),
        predictions_asset(pipeline),
        live_performance_asset(pipeline),
    ]
    return with_code_versions(pipeline, assets)


def pipeline_definitions(
    spec: PipelineSpec,
    *,
    schedules_running: bool = False,
    train_executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """Everything Dagster needs for one pipeline, except resources (chosen by the environment)."""
    pipeline = PipelineNames(spec)
    jobs = pipeline_jobs(pipeline, train_executor)
    assets = pipeline_assets(pipeline)
    cleaned = {pipeline.cleaned_key(t) for t in pipeline.tables}
    with deliberate_previews_accepted():
        checks = [deploy_gate_check(pipeline), *drift_checks(pipeline)]
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[
            j
            for j in (jobs.ingest, jobs.ingest_score, jobs.lookups, jobs.train, jobs.deploy, jobs.score)
            if j is not None
        ],
        schedules=pipeline_schedules(pipeline, jobs, schedules_running),
        sensors=[
            deploy_sensor(pipeline, jobs),
            new_data_sensor(pipeline, jobs),
            retrain_sensor(pipeline, jobs, blocking_check_keys(assets, cleaned)),
            run_failure_alert(pipeline, jobs, assets),
            gate_rejection_alert(pipeline),
            champion_alert(pipeline),
            drift_alert(pipeline),
            scoring_automation(pipeline),
        ],
    )
