"""Local Dagster storage: Dagster's own SQLite storage with ``PRAGMA synchronous=NORMAL``.

Dagster's SQLite storages run in WAL mode with SQLite's default ``synchronous=FULL``: every commit
fsyncs. A single-run backfill over a year writes thousands of events (one materialization per
partition per asset), and on this machine an fsync costs ~5 ms, so the event log, not the work,
dominated a full build (profile in docs/benchmarks.md). In WAL mode ``synchronous=NORMAL`` keeps the
database consistent after any crash of the application; only a power loss can drop the last commits,
an acceptable trade for an embedded, local instance. Production uses PostgreSQL.

Selected in ``dagster.yaml``::

    storage:
      custom:
        module: ml_platform.instance_storage
        class: LocalSqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

_LOCK = threading.Lock()
_DIRS: set[str] = set()
_LISTENING = False


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if path and any(path.startswith(d) for d in _DIRS):
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _relax_sync_under(base_dir: str) -> None:
    """Register (once per process) a connect hook for SQLite files under ``base_dir``."""
    global _LISTENING
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    with _LOCK:
        _DIRS.add(os.path.abspath(base_dir) + os.sep)
        if not _LISTENING:
            event.listen(Engine, "connect", _on_connect)
            _LISTENING = True


class LocalSqliteStorage(DagsterSqliteStorage):
    """Same files and schema as Dagster's default SQLite storage; commits without fsync (WAL)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        _relax_sync_under(base_dir)
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> LocalSqliteStorage:  # type: ignore[override]
        return cls.from_local(inst_data=inst_data, **config_value)
