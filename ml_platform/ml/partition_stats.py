"""What the data checks know of each cleaned partition (pure pandas): rows delivered, quarantined
and without a target, the label's mean and spread, and for multiclass every class's share; stored as
the partition's materialization metadata and read back as the history of later runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, _reason_kind
from ml_platform.specs.models import TargetSpec

#: metadata key prefix of a class's share (multiclass): ``class_share/<class>``
CLASS_SHARE = "class_share/"


@dataclass(frozen=True)
class PartitionStats:
    """What the checks know of one partition (also stored as its materialization metadata)."""

    rows_delivered: int
    rows_quarantined: int = 0
    rows_missing_target: int = 0
    rows_labelled: int = 0
    target_mean: float | None = None  # the positive rate for classification
    target_std: float | None = None
    class_shares: Mapping[str, float] | None = None  # multiclass: class → share of labelled rows

    def metadata(self) -> dict[str, int | float]:
        plain = {k: v for k, v in asdict(self).items() if v is not None and k != "class_shares"}
        return plain | {f"{CLASS_SHARE}{c}": share for c, share in (self.class_shares or {}).items()}

    @classmethod
    def from_metadata(cls, values: Mapping[str, object]) -> PartitionStats | None:
        if "rows_delivered" not in values:
            return None
        known = {k: values[k] for k in cls.__dataclass_fields__ if k in values and k != "class_shares"}
        shares = {
            k.removeprefix(CLASS_SHARE): float(v)  # type: ignore[arg-type]
            for k, v in values.items()
            if k.startswith(CLASS_SHARE)
        }
        return cls(**known, class_shares=shares or None)  # type: ignore[arg-type]


def labels(values: pd.Series, task: str, target: TargetSpec) -> pd.Series:
    """The label whose mean the target check watches (the positive class for binary classification;
    for multiclass, the last of ``target.classes``: every class's share is :func:`class_shares`),
    missing where the target is."""
    if task == "classification" and (target.positive_class is not None or target.classes is not None):
        positive = (
            target.positive_class if target.positive_class is not None else (target.classes or [""])[-1]
        )
        return (values.astype(str) == str(positive)).astype(float).where(values.notna())
    numeric = pd.to_numeric(values, errors="coerce")
    if task == "classification" and target.greater_than is not None:
        return (numeric > target.greater_than).astype(float).where(numeric.notna())
    return numeric


def class_shares(
    values: pd.Series, partitions: pd.Series, classes: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per partition with labelled rows: each of ``classes`` → its share of them (0.0 for a class
    absent that partition); ``values`` the target column, ``partitions`` its partition keys."""
    text = values.astype(str).where(values.notna())
    frame = pd.DataFrame({"key": partitions.astype(str).to_numpy(), "label": text.to_numpy()}).dropna()
    if frame.empty:
        return {}
    counts = pd.crosstab(frame["key"], frame["label"]).reindex(columns=list(classes), fill_value=0)
    totals = frame.groupby("key").size()
    return {
        str(key): {c: float(counts.at[key, c]) / int(totals[key]) for c in classes} for key in counts.index
    }


def partition_stats(
    delivered: Mapping[str, int],
    cleaned: pd.DataFrame,
    quarantine: pd.DataFrame,
    label: pd.Series | None,
    shares: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, PartitionStats]:
    """Per partition key of ``delivered``: rows delivered/quarantined and the label's statistics
    (``label`` aligned with ``cleaned``; ``None`` for tables without a target; ``shares``: the
    multiclass :func:`class_shares`)."""
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
        by_class = (shares or {}).get(key)
        out[key] = PartitionStats(
            rows_delivered=int(rows),
            rows_quarantined=int(q_counts.get(key, 0)),
            rows_missing_target=int(size) - int(n),
            rows_labelled=int(n),
            target_mean=float(mean) if n else None,
            target_std=float(std) if n else None,
            class_shares=dict(by_class) if n and by_class is not None else None,
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
