"""The local instance's storage, selected in ``dagster.yaml``::

    storage:
      custom:
        module: ml_platform.integrations.instance_storage
        class: LocalSqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}

Dagster's own SQLite files and schema, tuned for a year of per-partition events (fsync-free WAL
commits, batched event writes, kept engines: see :mod:`ml_platform.integrations.sqlite_tuned`).
The tuning uses ``dagster._core`` internals, so it loads only on the Dagster version it was written
and tested for; on any other version this warns once, in one line, and uses Dagster's stock SQLite
storage (same files: nothing is lost, only speed).
"""

from __future__ import annotations

import warnings
from typing import Any

from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

WRITTEN_FOR = "1.13.27"  # the dagster release whose internals sqlite_tuned.py subclasses


def version_problem(installed: str) -> str | None:
    """Why the tuned storage must not load on ``installed`` (None: it may)."""
    if installed != WRITTEN_FOR:
        return (
            f"ml_platform's tuned SQLite storage was written for dagster {WRITTEN_FOR}, found {installed}: "
            "using Dagster's stock SQLite storage instead (same files; slower event writes)"
        )
    return None


class LocalSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage; the tuned subclass when the Dagster version matches."""

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> DagsterSqliteStorage:  # type: ignore[override]
        import dagster

        problem = version_problem(dagster.__version__)
        if problem:
            warnings.warn(problem, RuntimeWarning, stacklevel=2)
            return DagsterSqliteStorage.from_local(inst_data=inst_data, **config_value)
        from ml_platform.integrations.sqlite_tuned import TunedSqliteStorage

        return TunedSqliteStorage.from_local(inst_data=inst_data, **config_value)


def storage_config(base_dir: str) -> dict[str, Any]:
    """The ``storage:`` section of a local instance keeping its files in ``base_dir`` (what
    ``deploy/local/dagster_storage.yaml`` sets; for ``dg.instance_for_test(overrides=...)``)."""
    return {
        "storage": {
            "custom": {
                "module": __name__,
                "class": LocalSqliteStorage.__name__,
                "config": {"base_dir": base_dir},
            }
        }
    }
