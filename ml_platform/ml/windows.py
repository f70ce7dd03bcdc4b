"""Time-based training/holdout windows over partition keys: days, weeks or hours (never a random split)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ml_platform.specs.models import TrainingSpec


@dataclass(frozen=True)
class Windows:
    train: list[str]
    holdout: list[str]

    @property
    def train_range(self) -> str:
        return f"{self.train[0]}..{self.train[-1]}"

    @property
    def holdout_range(self) -> str:
        return f"{self.holdout[0]}..{self.holdout[-1]}"


def split_windows(
    partition_keys: list[str], window: int, holdout: int, as_of: dt.date | str | None = None
) -> Windows:
    """Holdout = the ``holdout`` keys ending at ``as_of`` (a day: its last key; a key: that key;
    default: the last key); train = the ``window`` keys right before it. Keys start with their ISO
    date, so sorting them sorts time (hours too: ``…-01:00`` < ``…-01:00-0500`` < ``…-02:00``)."""
    keys = sorted(partition_keys)
    if as_of is None:
        end = len(keys)
    elif isinstance(as_of, str):
        end = sum(1 for k in keys if k <= as_of)
    else:
        end = sum(1 for k in keys if k[:10] <= as_of.isoformat())
    if end == 0:
        raise ValueError(f"no partition on or before as_of={as_of}")
    holdout_keys = keys[max(0, end - holdout) : end]
    train_keys = keys[max(0, end - holdout - window) : max(0, end - holdout)]
    if len(holdout_keys) < holdout or len(train_keys) < window:
        raise ValueError(
            f"need {window} training + {holdout} holdout partitions up to {keys[end - 1]}, "
            f"only {end} partitions exist from {keys[0]}"
        )
    return Windows(train=train_keys, holdout=holdout_keys)


def resolve_windows(
    training: TrainingSpec, partition_keys: list[str], present: list[str], as_of: str | None, what: str
) -> Windows:
    """The spec's windows over ``partition_keys`` ending at ``as_of`` (default: the spec's
    ``training.as_of``, else the newest present key); every key in them must be ``present``."""
    if not present:
        raise ValueError(f"{what} has no materialized partitions")
    end: dt.date | str = _as_of(as_of) if as_of else max(present)
    if training.as_of and not as_of:
        end = training.as_of
    windows = split_windows(partition_keys, training.window_partitions, training.holdout_partitions, end)
    missing = sorted(set(windows.train + windows.holdout) - set(present))
    if missing:
        raise ValueError(
            f"{len(missing)} partition(s) of {what} needed for "
            f"train {windows.train_range} / holdout {windows.holdout_range} are not materialized: "
            f"{missing[:5]}{' …' if len(missing) > 5 else ''}"
        )
    return windows


def _as_of(text: str) -> dt.date | str:
    """A day (``YYYY-MM-DD``) or, for hourly partitions, a partition key as it is."""
    return dt.date.fromisoformat(text) if len(text) == 10 else text
