"""Dagster test instances with the local platform's own storage (the tuned SQLite of
``deploy/local/dagster_storage.yaml``), as a user's ``make``-written instance has: Dagster's stock
test storage stores each event with its own connections, 6× slower on a few years of days."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import dagster as dg

from ml_platform.integrations.instance_storage import storage_config


@contextmanager
def local_instance(temp_dir: str | None = None) -> Iterator[dg.DagsterInstance]:
    """``dg.instance_for_test`` in ``temp_dir`` (a new temporary one if None) on the local storage."""
    with tempfile.TemporaryDirectory() if temp_dir is None else nullcontext(temp_dir) as folder:
        with dg.instance_for_test(temp_dir=folder, overrides=storage_config(folder)) as instance:
            yield instance
