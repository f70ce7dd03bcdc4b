"""Data checks on cleaned partitions against the previous partitions' own statistics (pure pandas).

Each partition gets :class:`~ml_platform.ml.partition_stats.PartitionStats` (re-exported here); :func:`evaluate` walks the run's partitions in order,
each judged against the ``history_partitions`` published partitions before it (stored ones and
earlier ones of the same run that passed), and returns, per check, the failing partitions with a
reason. Fewer than ``min_history`` previous partitions: the relative checks pass, saying so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median

import numpy as np

from ml_platform.ml.partition_stats import (
    CLASS_SHARE,
    PartitionStats,
    class_shares,
    labels,
    partition_stats,
    quarantine_reasons,
)
from ml_platform.specs.models import ChecksSpec

QUARANTINE_SHARE, VOLUME, TARGET, MISSING_TARGET = (
    "quarantine_share",
    "volume",
    "target_distribution",
    "missing_target",
)


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


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


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
    if task == "classification" and s.class_shares is not None:
        return _class_shares(s.class_shares, [p.class_shares for p in past if p.class_shares], cfg)
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


def _class_shares(
    shares: Mapping[str, float], past: list[Mapping[str, float]], cfg: ChecksSpec
) -> tuple[bool, str]:
    """Multiclass: every class's share within ``max_rate_shift_logit`` log-odds of its median over
    the previous partitions (a class absent from one counts 0 there); the text names each class out
    of bounds with its share and the bounds."""
    if len(past) < cfg.min_history:
        return True, f"class shares ({len(past)} previous partitions with class shares: too few)"
    limit = cfg.max_rate_shift_logit
    out = []
    for name, share in shares.items():
        typical = median(p.get(name, 0.0) for p in past)
        shift = abs(_logit(share) - _logit(typical))
        if shift > limit:
            low, high = _expit(_logit(typical) - limit), _expit(_logit(typical) + limit)
            out.append(
                f"class '{name}' share {share:.3f} outside {low:.3f}..{high:.3f} (median {typical:.3f}, "
                f"log-odds shift {shift:.2f}, max {limit:g})"
            )
    where = f"of the previous {len(past)} partitions"
    if out:
        return False, f"{len(out)} of {len(shares)} class shares out of bounds {where}: " + "; ".join(out)
    shown = ", ".join(f"{name} {share:.3f}" for name, share in shares.items())
    return True, f"class shares {shown}: each within {limit:g} log-odds of its median {where}"


def _missing(s: PartitionStats, cfg: ChecksSpec) -> tuple[bool, str]:
    total = s.rows_missing_target + s.rows_labelled
    share = s.rows_missing_target / total if total else 0.0
    return share <= cfg.max_missing_target_share, (
        f"{s.rows_missing_target} of {total} cleaned rows without a target ({share:.1%}, "
        f"max {cfg.max_missing_target_share:.0%})"
    )


__all__ = [
    "CLASS_SHARE",
    "MISSING_TARGET",
    "QUARANTINE_SHARE",
    "TARGET",
    "VOLUME",
    "CheckReport",
    "PartitionStats",
    "class_shares",
    "evaluate",
    "labels",
    "partition_stats",
    "quarantine_reasons",
]
