"""``performance_decay``: a partitioned, non-blocking check on ``live_performance`` that fails only
when a day's confidence interval lies wholly below the champion's reference minus the spec's
tolerance (above it plus the tolerance for lower-is-better metrics): a real decay, not noise.

The reference is the worst decile of the champion's *daily* holdout metric (logged at evaluation):
one day's AUC is not the pooled holdout AUC (pooling many days adds the between-day signal), so a
stable day would fall below the pooled figure; the replay in docs/monitoring.md measured it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.monitoring import MODEL_VERSION, decay_decision
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.metric_names import HIGHER_IS_BETTER
from ml_platform.specs.models import PipelineSpec


def performance_decay_spec(pipeline: PipelineNames, metric: str) -> dg.AssetCheckSpec:
    tolerance = pipeline.spec.monitoring.performance.tolerance
    return dg.AssetCheckSpec(
        "performance_decay",
        asset=pipeline.live_performance_key,
        partitions_def=pipeline.partitions_def,
        description=f"Fails when a day's {metric} 95% interval is entirely worse than the worst decile "
        f"of the champion's daily holdout {metric} moved by {tolerance} (logged at evaluation, read "
        "from MLflow).",
    )


def decay_results(spec: PipelineSpec, metric: str, frame: pd.DataFrame) -> Iterator[dg.AssetCheckResult]:
    """One result for the run's days, with each judged day's reason in the metadata."""
    tolerance = spec.monitoring.performance.tolerance
    judged, decayed, reasons = 0, [], []
    for row in frame.to_dict("records"):
        holdout = row.get(f"reference_{metric}", np.nan)
        if not row.get("labels_known") or not np.isfinite(holdout):
            continue
        judged += 1
        decision = decay_decision(
            metric,
            metric in HIGHER_IS_BETTER,
            row[metric],
            (row[f"{metric}_lo"], row[f"{metric}_hi"]),
            holdout,
            tolerance,
        )
        line = f"{row[PARTITION_COLUMN]} (v{row[MODEL_VERSION]}): {decision.reason}"
        reasons.append(("DECAY " if decision.decayed else "ok ") + line)
        if decision.decayed:
            decayed.append((row[PARTITION_COLUMN], row[metric], holdout))
    metadata: dict[str, Any] = {
        "metric": metric,
        "days_judged": judged,
        "decayed_days": ", ".join(d for d, _, _ in decayed) or "none",
        "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in reasons) or "no day with known labels"),
    }
    if decayed:
        day, value, holdout = decayed[0]
        metadata["retrain_reason"] = f"decay: {metric} {value:.3f} vs reference {holdout:.3f} ({day})"
        description = f"{len(decayed)} of {judged} day(s) decayed; first {day}"
    else:
        description = f"no decay on {judged} judged day(s)" if judged else "not judged: no labels known yet"
    yield dg.AssetCheckResult(
        check_name="performance_decay", passed=not decayed, description=description, metadata=metadata
    )
