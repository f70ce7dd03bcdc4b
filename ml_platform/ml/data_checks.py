"""Data checks on cleaned partitions against the previous partitions' own statistics (pure pandas).

Each partition gets :class:`PartitionStats`; :func:`evaluate` walks the run's partitions in order,
each judged against the ``history_partitions`` published partitions before it (stored ones and
earlier ones of the same run that passed), and returns, per check, the failing partitions with a
reason. Fewer than ``min_history`` previous partitions: the relative checks pass, saying so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import median

import numpy as np
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, _reason_kind
from ml_platform.specs.models import ChecksSpec, TargetSpec

QUARANTINE_SHARE, VOLUME, TARGET, MISSING_TARGET = (
    "quarantine_share",
    "volume",
    "target_distribution",
    "missing_target",
)


@dataclass(frozen=True)
class PartitionStats:
    """What the checks know of one partition (also stored as its materialization metadata)."""

    rows_delivered: int
    rows_quarantined: int = 0
    rows_missing_target: int = 0
    rows_labelled: int = 0
    target_mean: float | None = None  # the positive rate for classification
    target_std: float | None = None

    def metadata(self) -> dict[str, int | float]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_metadata(cls, values: Mapping[str, object]) -> PartitionStats | None:
        if "rows_delivered" not in values:
            return None
        known = {k: values[k] for k in cls.__dataclass_fields__ if k in values}
        return cls(**known)  # type: ignore[arg-type]


@dataclass
class CheckReport:
    """One check over a run's partitions: the failing ones with their reasons, and what was seen."""

    name: str
    failures: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    def description(self) -> str:
        if self.failures:
            shown = "; ".join(f"{k}: {v}" for k, v in list(self.failures.items())[:5])
            more = f" (+{len(self.failures) - 5} more)" if len(self.failures) > 5 else ""
            return f"{len(self.failures)} partition(s) failed: {shown}{more}"
        return "; ".join(f"{k}: {v}" for k, v in list(self.seen.items())[:3]) or "no partitions"


def labels(values: pd.Series, task: str, target: TargetSpec) -> pd.Series:
    """The label the target check watches (the positive class for binary classification; for
    multiclass, the last of ``target.classes``), missing where the target is."""
    if task == "classification" and (target.positive_class is not None or target.classes is not None):
        positive = (
            target.positive_class if target.positive_class is not None else (target.classes or [""])[-1]
        )
        return (values.astype(str) == str(positive)).astype(float).where(values.notna())
    numeric = pd.to_numeric(values, errors="coerce")
    if task == "classification" and target.greater_than is not None:
        return (numeric > target.greater_than).astype(float).where(numeric.notna())
    return numeric


def partition_stats(
    delivered: Mapping[str, int],
    cleaned: pd.DataFrame,
    quarantine: pd.DataFrame,
    label: pd.Series | None,
) -> dict[str, PartitionStats]:
    """Per partition key of ``delivered``: rows delivered/quarantined and the label's statistics
    (``label`` aligned with ``cleaned``; ``None`` for tables without a target)."""
    q_counts = quarantine.groupby(PARTITION_COLUMN).size() if len(quarantine) else pd.Series(dtype=int)
    agg = pd.DataFrame(columns=["size", "count", "mean", "std"])
    if label is not None and len(cleaned):
        y = pd.Series(label.to_numpy(dtype=float), index=cleaned[PARTITION_COLUMN].astype(str).to_numpy())
        grouped = y.groupby(level=0)
        agg = pd.DataFrame(
            {
                "size": grouped.size(),
                "count": grouped.count(),
                "mean": grouped.mean(),
                "std": grouped.std(ddof=0),
            }
        )
    out = {}
    for key, rows in delivered.items():
        size, n, mean, std = agg.loc[key].tolist() if key in agg.index else (0, 0, 0.0, 0.0)
        out[key] = PartitionStats(
            rows_delivered=int(rows),
            rows_quarantined=int(q_counts.get(key, 0)),
            rows_missing_target=int(size) - int(n),
            rows_labelled=int(n),
            target_mean=float(mean) if n else None,
            target_std=float(std) if n else None,
        )
    return out


def quarantine_reasons(quarantine: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per partition: reason kind → rows."""
    out: dict[str, dict[str, int]] = {}
    if not len(quarantine) or PARTITION_COLUMN not in quarantine:
        return out
    for key, text in zip(quarantine[PARTITION_COLUMN], quarantine[REASONS_COLUMN], strict=True):
        counts = out.setdefault(str(key), {})
        for reason in str(text).split("; "):
            counts[_reason_kind(reason)] = counts.get(_reason_kind(reason), 0) + 1
    return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def evaluate(
    keys: Sequence[str],
    stats: Mapping[str, PartitionStats],
    history: Mapping[str, PartitionStats],
    cfg: ChecksSpec,
    task: str | None,
    reasons: Mapping[str, Mapping[str, int]] | None = None,
    allow_empty: bool = False,
) -> dict[str, CheckReport]:
    """Reports for every check over ``keys`` (in order); ``task`` ``None``: no target checks;
    ``allow_empty``: a partition without rows passes the volume check (an auxiliary table may lack
    a day).

    ``history`` holds the stored stats of published partitions before the run's; a run partition
    that passes every check joins the history of the ones after it."""
    names = [QUARANTINE_SHARE, VOLUME] + ([TARGET, MISSING_TARGET] if task else [])
    reports = {n: CheckReport(n) for n in names}
    past = dict(history)
    for key in keys:
        s = stats[key]
        prior = [past[k] for k in sorted(past) if k < key][-cfg.history_partitions :]
        results = {
            QUARANTINE_SHARE: _quarantine(s, cfg, (reasons or {}).get(key, {})),
            VOLUME: (True, "no rows (allowed for this table)")
            if allow_empty and not s.rows_delivered
            else _volume(s, prior, cfg),
        }
        if task:
            results[TARGET] = _target(s, prior, cfg, task)
            results[MISSING_TARGET] = _missing(s, cfg)
        for name, (ok, text) in results.items():
            (reports[name].seen if ok else reports[name].failures)[key] = text
        if all(ok for ok, _ in results.values()):
            past[key] = s
    return reports


def _quarantine(s: PartitionStats, cfg: ChecksSpec, reasons: Mapping[str, int]) -> tuple[bool, str]:
    share = s.rows_quarantined / s.rows_delivered if s.rows_delivered else 0.0
    text = f"{s.rows_quarantined} of {s.rows_delivered} rows quarantined ({share:.2%})"
    if reasons:
        top = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
        text += ": " + ", ".join(f"{reason} ({n})" for reason, n in top)
    return share <= cfg.max_quarantine_share, text


def _volume(s: PartitionStats, prior: list[PartitionStats], cfg: ChecksSpec) -> tuple[bool, str]:
    if len(prior) < cfg.min_history:
        return True, f"{s.rows_delivered} rows ({len(prior)} previous partitions: too few to compare)"
    typical = median(p.rows_delivered for p in prior)
    low, high = typical * cfg.volume.min_ratio, typical * cfg.volume.max_ratio
    text = (
        f"{s.rows_delivered} rows delivered, expected {low:g}..{high:g} "
        f"(median {typical:g} of the previous {len(prior)} partitions)"
    )
    return low <= s.rows_delivered <= high, text


def _target(s: PartitionStats, prior: list[PartitionStats], cfg: ChecksSpec, task: str) -> tuple[bool, str]:
    past = [p for p in prior if p.target_mean is not None and p.rows_labelled >= cfg.min_labelled_rows]
    if s.target_mean is None or s.rows_labelled < cfg.min_labelled_rows:
        return True, f"{s.rows_labelled} labelled rows: too few to compare"
    if len(past) < cfg.min_history:
        return True, f"target mean {s.target_mean:.4g} ({len(past)} previous partitions: too few)"
    typical = median(p.target_mean for p in past if p.target_mean is not None)
    if task == "classification":
        shift = abs(_logit(s.target_mean) - _logit(typical))
        return shift <= cfg.max_rate_shift_logit, (
            f"positive rate {s.target_mean:.3f} vs median {typical:.3f} of the previous {len(past)} "
            f"partitions: log-odds shift {shift:.2f} (max {cfg.max_rate_shift_logit:g})"
        )
    spread = median(p.target_std or 0.0 for p in past) or float(np.std([p.target_mean or 0.0 for p in past]))
    shift = (
        abs(s.target_mean - typical) / spread if spread else (0.0 if s.target_mean == typical else math.inf)
    )
    return shift <= cfg.max_mean_shift_sd, (
        f"target mean {s.target_mean:.4g} vs median {typical:.4g} of the previous {len(past)} "
        f"partitions: {shift:.2f} typical std away (max {cfg.max_mean_shift_sd:g})"
    )


def _missing(s: PartitionStats, cfg: ChecksSpec) -> tuple[bool, str]:
    total = s.rows_missing_target + s.rows_labelled
    share = s.rows_missing_target / total if total else 0.0
    return share <= cfg.max_missing_target_share, (
        f"{s.rows_missing_target} of {total} cleaned rows without a target ({share:.1%}, "
        f"max {cfg.max_missing_target_share:.0%})"
    )
