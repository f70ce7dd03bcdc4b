"""Drift checks against the champion's reference profile (an MLflow artifact of its run, so the
reference moves with the champion): ``feature_drift`` on each day's features and ``prediction_drift``
on each day's scores (yielded by the predictions asset). Non-blocking: a drift alarm is news, not a
reason to stop scoring; the drift alert sensor notifies and the retrain sensor reacts."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.drift import PROFILE_ARTIFACT, SCORE, FeatureDrift, as_records, feature_drift, frame_drift
from ml_platform.ml.drift_plot import drift_plot_data, drift_png
from ml_platform.ml.model_card import embedded_images
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.models import PipelineSpec


def champion_profile(mlflow: MlflowRegistry, model: str) -> tuple[str | None, dict[str, Any] | None]:
    """The champion's version and its reference profile (``None`` where there is none)."""
    champion = mlflow.version_by_alias(model, "champion")
    if champion is None:
        return None, None
    return str(champion.version), mlflow.load_json(champion.run_id, PROFILE_ARTIFACT)


DayDrift = Callable[[pd.DataFrame], list[FeatureDrift]]


def drift_result(
    spec: PipelineSpec,
    check: str,
    frame: pd.DataFrame,
    version: str | None,
    profile: Mapping[str, Any] | None,
    judge: DayDrift,
) -> dg.AssetCheckResult:
    """One result for the run's days: fails if any day drifted; metadata names the worst day's top
    features with scores, a plot of them, and the retrain reason."""
    if version is None or profile is None:
        why = "no champion" if version is None else f"champion v{version} has no {PROFILE_ARTIFACT}"
        return dg.AssetCheckResult(
            check_name=check, passed=True, description=f"not judged: {why}", metadata={"status": why}
        )
    drift = spec.monitoring.drift
    per_day = {
        str(day): judge(part)
        for day, part in frame.groupby(PARTITION_COLUMN, sort=True, observed=True)
        if len(part) >= drift.min_rows
    }
    if not per_day:
        return dg.AssetCheckResult(
            check_name=check, passed=True, description="not judged: no day with enough rows"
        )
    drifted = {d: [f for f in fs if f.drifted] for d, fs in per_day.items()}
    drifted = {d: fs for d, fs in drifted.items() if fs}
    worst_day = max(drifted or per_day, key=lambda d: max((f.psi for f in per_day[d]), default=0.0))
    top = per_day[worst_day][: drift.top_features]
    data = drift_plot_data(per_day[worst_day], drift.psi_threshold)
    png = drift_png(data, f"{check} {worst_day} (champion v{version})")
    lines = [
        f"Champion v{version}, reference {profile.get('window', '?')}; worst day {worst_day}",
        "",
        "| feature | PSI | natural PSI | test | statistic | p | drifted |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {f.feature} | {f.psi:.3f} | {f.natural_psi:.3f} | {f.test} | {f.statistic:.3g} | "
            f"{f.p_value:.2g} | {'yes' if f.drifted else 'no'} |"
            for f in top
        ),
        "",
        *embedded_images({"drift.png": png}),
    ]
    worst = top[0]
    metadata: dict[str, Any] = {
        "champion_version": version,
        "reference_window": str(profile.get("window", "")),
        "days_judged": len(per_day),
        "drifted_days": ", ".join(f"{d}: {', '.join(f.feature for f in fs)}" for d, fs in drifted.items())
        or "none",
        "worst_day": worst_day,
        "worst_feature": worst.feature,
        "max_psi": worst.psi,
        "top_features": dg.MetadataValue.json(as_records(top)),
        "plot_data": dg.MetadataValue.json(data),
        "report": dg.MetadataValue.md("\n".join(lines)),
    }
    if drifted:
        first = min(drifted)
        f = drifted[first][0]
        metadata["retrain_reason"] = f"drift: {f.feature} PSI {f.psi:.2f} ({first})"
        description = f"{len(drifted)} drifted day(s); first {first}: " + "; ".join(
            x.summary() for x in drifted[first][:3]
        )
    else:
        description = f"no drift on {len(per_day)} day(s); highest {worst.summary()} on {worst_day}"
    return dg.AssetCheckResult(
        check_name=check, passed=not drifted, description=description, metadata=metadata
    )


def judge_features(spec: PipelineSpec, profile: Mapping[str, Any]) -> DayDrift:
    d = spec.monitoring.drift
    return lambda part: frame_drift(profile, part, d.psi_threshold, d.natural_margin, d.p_value, d.min_rows)


def judge_scores(spec: PipelineSpec, profile: Mapping[str, Any]) -> DayDrift:
    d = spec.monitoring.drift
    return lambda part: [
        feature_drift(
            profile[SCORE], part[SCORE], SCORE, d.psi_threshold, d.natural_margin, d.p_value, d.min_rows
        )
    ]


def prediction_drift_spec(pipeline: PipelineNames) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "prediction_drift",
        asset=pipeline.predictions_key,
        partitions_def=pipeline.partitions_def,
        description="The day's score distribution vs the champion's scores on its training window "
        f"(PSI >= {pipeline.spec.monitoring.drift.psi_threshold}, beyond natural daily variation, KS).",
    )


def feature_drift_check(pipeline: PipelineNames) -> dg.AssetChecksDefinition:
    spec = pipeline.spec
    drift = spec.monitoring.drift

    @dg.asset_check(
        asset=pipeline.features_key,
        name="feature_drift",
        partitions_def=pipeline.partitions_def,
        description=f"Each day's features vs the champion's training window: PSI >= "
        f"{drift.psi_threshold} and > {drift.natural_margin}x the window's largest daily PSI, "
        f"and KS / chi-squared p < {drift.p_value}. Non-blocking; alerts and may retrain.",
    )
    def _feature_drift(
        context: dg.AssetCheckExecutionContext, mlflow: MlflowRegistry, features: pd.DataFrame
    ) -> dg.AssetCheckResult:
        version, profile = champion_profile(mlflow, spec.model_name)
        judge = judge_features(spec, profile) if profile else (lambda _: [])
        return drift_result(spec, "feature_drift", features, version, profile, judge)

    return _feature_drift


def drift_checks(pipeline: PipelineNames) -> Sequence[dg.AssetChecksDefinition]:
    return [feature_drift_check(pipeline)]
