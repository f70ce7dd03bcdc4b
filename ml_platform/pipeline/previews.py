"""Dagster features still marked "preview" or "beta" in 1.13 that the platform uses by design:
partitioned asset checks (the per-day data, drift and performance checks), single-run backfill
policies, and a raw output's content-hash data version. Dagster warns at each use, so every load
(CLI command, code server) and every raw step printed the same lines, which ask nothing of the user.
Only these warnings are silenced, only where the platform uses the feature."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import dagster as dg

DELIBERATE_PREVIEWS = (
    (r"Specifying a partitions_def on an AssetCheckSpec is currently in preview", dg.PreviewWarning),
    (r"Parameter `backfill_policy` of function `asset` is currently in beta", dg.BetaWarning),
    (r"Parameter `data_version` of initializer `Output.__init__` is currently in beta", dg.BetaWarning),
)


@contextlib.contextmanager
def deliberate_previews_accepted() -> Iterator[None]:
    with warnings.catch_warnings():
        for message, category in DELIBERATE_PREVIEWS:
            warnings.filterwarnings("ignore", message, category)
        yield
