"""Local Dagster storage: Dagster's own SQLite storage, with fsync-free commits and batched writes.

Dagster's SQLite storages run in WAL mode with SQLite's default ``synchronous=FULL``: every commit
fsyncs. A single-run backfill over a year writes thousands of events (one materialization per
partition per asset), and on this machine an fsync costs ~5 ms, so the event log, not the work,
dominated a full build (profile in docs/benchmarks.md). In WAL mode ``synchronous=NORMAL`` keeps the
database consistent after any crash of the application; only a power loss can drop the last commits,
an acceptable trade for an embedded, local instance. Production uses PostgreSQL.

Batched writes: Dagster hands the materializations of one multi-partition output (and the planned
events of a new run) to ``store_event_batch`` when ``DAGSTER_EVENT_BATCH_SIZE`` is set, which this
storage sets (as a default) for the process that loads it. SQLite's own storage inherits the base
loop: one connection, transaction and WAL checkpoint per event and shard. Here a batch writes each
event exactly as ``store_event`` does, but inside one transaction per shard (run and index).

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
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy.engine import Connection

#: Events per batch write (Dagster's own setting; a year of one asset's partitions is 365).
EVENT_BATCH_SIZE = "1000"

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


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log; a batch of events shares one transaction per shard."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._db_lock = threading.RLock()  # type: ignore[assignment]  # a batch holds two shards at once
        self._held = threading.local()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        held: dict[str, Connection] | None = getattr(self._held, "conns", None)
        if held is not None and shard in held:
            yield held[shard]  # already inside the batch's transaction on this shard
            return
        with super()._connect(shard) as conn:
            yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        shards = [INDEX_SHARD_NAME, *sorted({e.run_id for e in events})]
        with self._db_lock, ExitStack() as stack:
            held = {s: stack.enter_context(SqliteEventLogStorage._connect(self, s)) for s in shards}
            self._held.conns = held
            try:
                self._store_held(events, held[INDEX_SHARD_NAME])
            finally:
                self._held.conns = None

    def _store_held(self, events: Sequence[EventLogEntry], index: Connection) -> None:
        """``store_event`` for each event, except for asset events: their rows go in one multi-row
        insert per shard (ids returned in order), their tags in one insert, and the asset-key row is
        written once per asset and event type, from the batch's last such event: the columns it sets
        (last materialization, run, timestamp) are overwritten by every later event of that type, so
        the result is the same as writing each in turn."""
        asset_events: list[EventLogEntry] = []
        for event in events:
            if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS:
                asset_events.append(event)
            else:
                self.store_event(event)
        rows = [self._event_to_row(event) for event in asset_events]
        for run_id in sorted({event.run_id for event in asset_events}):
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), [r for r in rows if r["run_id"] == run_id])
        insert = SqlEventLogStorageTable.insert().returning(
            SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
        )
        event_ids = [int(r[0]) for r in index.execute(insert, rows)] if rows else []
        if len(event_ids) != len(rows):
            raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")
        if not asset_events:
            return
        self._store_asset_event_tags(index, asset_events, event_ids)
        last: dict[tuple[str, str], tuple[EventLogEntry, int]] = {}
        for event, event_id in zip(asset_events, event_ids, strict=True):
            dagster_event = event.get_dagster_event()
            key = (
                dagster_event.asset_key.to_string() if dagster_event.asset_key else "",
                dagster_event.event_type_value,
            )
            last[key] = (event, event_id)
        for event, event_id in last.values():
            self._store_asset_event(index, event, event_id)


class LocalSqliteStorage(DagsterSqliteStorage):
    """Same files and schema as Dagster's default SQLite storage; commits without fsync (WAL) and
    writes each batch of events in one transaction per shard."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        _relax_sync_under(base_dir)
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> LocalSqliteStorage:  # type: ignore[override]
        return cls.from_local(inst_data=inst_data, **config_value)
