"""The gate again, at deploy time, against the champion that is live *now*.

A gate pass compares the candidate with the champion of its evaluation. By the time the deploy
runs, another version may have become champion; then both are scored again on the candidate's own
holdout (its ``holdout_partitions`` tag) and :func:`ml_platform.ml.gate.decide` decides again."""

from __future__ import annotations

from typing import Any

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.gate import decide
from ml_platform.ml.metrics import point_metrics
from ml_platform.ml.model_factory import spec_scores
from ml_platform.specs.models import PipelineSpec


def holdout_keys(holdout_range: str, all_keys: list[str]) -> list[str]:
    """``"2024-01-16..2024-01-20"`` → the partition keys in that range."""
    first, _, last = holdout_range.partition("..")
    return [k for k in all_keys if first <= k <= (last or first)]


def recheck(
    spec: PipelineSpec,
    registry: MlflowRegistry,
    version: str,
    champion: str | None,
    report: dict[str, Any],
    read_holdout: Any,
    all_keys: list[str],
) -> tuple[bool, list[str]]:
    """(passes, reasons) of ``version`` against ``champion`` (the champion current at deploy time).
    Uses the evaluation report when it compared exactly these two versions, else re-scores."""
    name = spec.model_name
    if report.get("challenger_version") == version and (report.get("champion_version") or None) == champion:
        metrics = report["metrics"]
        decision = decide(spec.gate, metrics["challenger"], metrics.get("champion") if champion else None)
        where = f"champion v{champion}" if champion else "no champion"
        return decision.passed, [f"same comparison as the gate ({where})", *decision.reasons]
    mv = registry.model_version(name, version)
    window = mv.tags.get("holdout_partitions")
    if not window:
        return False, [f"v{version} has no holdout_partitions tag: cannot re-check it against v{champion}"]
    keys = holdout_keys(window, all_keys)
    holdout = read_holdout(keys)
    y = holdout[spec.target.name].to_numpy(dtype=float)
    cols = spec.features.model_columns
    threshold = spec.evaluation.decision_threshold

    def metrics_of(v: str) -> dict[str, float]:
        model = registry.load_sklearn(f"models:/{name}/{v}")
        used = list(getattr(model, "feature_names_in_", cols))
        return point_metrics(spec.metric_task, y, spec_scores(spec, model, holdout[used]), threshold)

    decision = decide(spec.gate, metrics_of(version), metrics_of(champion) if champion else None)
    gated = report.get("champion_version") if report.get("challenger_version") == version else "?"
    return decision.passed, [
        f"re-scored on v{version}'s holdout {window} ({len(y)} rows) against champion v{champion} "
        f"(the gate compared with {'v' + gated if gated and gated != '?' else gated or 'no champion'})",
        *decision.reasons,
    ]
