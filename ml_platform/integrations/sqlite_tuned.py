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

Engines kept: Dagster's SQLite storages create a SQLAlchemy engine for every connection, so every
statement is compiled anew and every use opens and closes the file (closing the last connection of a
WAL database checkpoints it). Here each process keeps one engine per database: the runs, schedules
and event-index databases keep a few connections open between uses; a run's own event database keeps
its engine (compiled statements) but still closes its connection after each use, because the
webserver's live run view learns of new events from the checkpoint that writes to that file.

Loaded only through :mod:`ml_platform.integrations.instance_storage`, which checks the Dagster
version first: this module leans on ``dagster._core`` internals of the version it was written for.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, cast

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster_shared.serdes import serialize_value
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned

#: Events per batch write (Dagster's own setting; a year of one asset's partitions is 365).
EVENT_BATCH_SIZE = "1000"

#: Engines a process keeps, least recently used disposed beyond these: with connections kept open
#: (three databases per Dagster home), and for run databases.
KEPT_OPEN_ENGINES = 24
RUN_ENGINES_KEPT = 64

_LOCK = threading.Lock()
_DIRS: set[str] = set()
_LISTENING = False
_KEPT_OPEN: OrderedDict[tuple[int, str], Engine] = OrderedDict()  # runs, schedules, event index
_PER_USE: OrderedDict[tuple[int, str], Engine] = OrderedDict()  # one per run database, bounded


def _engine(conn_string: str, keep_open: bool) -> Engine:
    """This process's engine for ``conn_string``. ``keep_open``: up to two idle connections stay open
    (more are opened, and closed again, under load); otherwise each use opens and closes one.
    A forked child drops its parent's engines without touching their connections."""
    key = (os.getpid(), conn_string)
    engines = _KEPT_OPEN if keep_open else _PER_USE
    with _LOCK:
        for inherited in (_KEPT_OPEN, _PER_USE):
            for old in [k for k in inherited if k[0] != key[0]]:
                inherited.pop(old).dispose(close=False)
        engine = engines.get(key)
        if engine is None:
            args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
            pool: dict[str, Any] = (
                {"pool_size": 2, "max_overflow": -1} if keep_open else {"poolclass": NullPool}
            )
            engine = engines[key] = create_engine(conn_string, connect_args=args, **pool)
        engines.move_to_end(key)
        while len(engines) > (KEPT_OPEN_ENGINES if keep_open else RUN_ENGINES_KEPT):
            engines.popitem(last=False)[1].dispose()
    return engine


def _forget_engines(directory: str) -> None:
    """Dispose this process's engines for databases in ``directory`` (before their files go)."""
    prefix = os.path.abspath(directory)
    with _LOCK:
        for engines in (_KEPT_OPEN, _PER_USE):
            for key in [k for k in engines if prefix in k[1]]:
                engines.pop(key).dispose()


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
        self._held = threading.local()  # before Dagster's __init__, which indexes a new home
        super().__init__(base_dir, inst_data=inst_data)
        self._db_lock = threading.RLock()  # type: ignore[assignment]  # a batch holds two shards at once

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        held: dict[str, Connection] | None = getattr(self._held, "conns", None)
        if held is not None and shard in held:
            yield held[shard]  # already inside the batch's transaction on this shard
            return
        with self._open(shard) as conn:
            yield conn

    @contextmanager
    def _open(self, shard: str) -> Iterator[Connection]:
        """Dagster's ``_connect`` on this process's kept engine for the shard."""
        with self._db_lock:
            engine = _engine(self.conn_string_for_shard(shard), keep_open=shard == INDEX_SHARD_NAME)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def wipe(self) -> None:
        _forget_engines(self._base_dir)  # the run databases' files are deleted
        super().wipe()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        shards = [INDEX_SHARD_NAME, *sorted({e.run_id for e in events})]
        with self._db_lock, ExitStack() as stack:
            held = {s: stack.enter_context(self._open(s)) for s in shards}
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
        the result is the same as writing each in turn. Events keep their order: a run of asset
        events is written before the next other event."""
        run: list[EventLogEntry] = []
        for event in events:
            if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS:
                run.append(event)
                continue
            self._store_asset_events(run, index)
            run = []
            self.store_event(event)
        self._store_asset_events(run, index)

    def _store_asset_events(self, asset_events: Sequence[EventLogEntry], index: Connection) -> None:
        if not asset_events:
            return
        rows = [self._event_to_row(event) for event in asset_events]
        for run_id in sorted({event.run_id for event in asset_events}):
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), [r for r in rows if r["run_id"] == run_id])
        insert = SqlEventLogStorageTable.insert().returning(
            SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
        )
        event_ids = [int(r[0]) for r in index.execute(insert, rows)]
        if len(event_ids) != len(rows):
            raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")
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

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """Dagster's rows for a planned check, one per partition: the same event serialized once and
        one executemany, instead of serializing it again for every partition into one multi-row
        statement compiled anew (a year of one partitioned check: ~1 s of a cold run's creation)."""
        planned = cast("AssetCheckEvaluationPlanned", event.get_dagster_event().event_specific_data)
        subset = planned.partitions_subset
        keys = subset.get_partition_keys() if subset else [None]
        common = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [{**common, "partition": k} for k in keys])


class KeptSqliteRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage on this process's kept engine."""

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _engine(self._conn_string, keep_open=True).connect() as conn, conn.begin():
            yield conn


class KeptSqliteScheduleStorage(SqliteScheduleStorage):
    """Dagster's SQLite schedule storage on this process's kept engine."""

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _engine(self._conn_string, keep_open=True).connect() as conn, conn.begin():
            yield conn


class TunedSqliteStorage(DagsterSqliteStorage):
    """Same files and schema as Dagster's default SQLite storage; commits without fsync (WAL), keeps
    its engines, and writes each batch of events in one transaction per shard."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        _relax_sync_under(base_dir)
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
        # DagsterSqliteStorage.__init__, with the subclasses above
        self.base_dir = base_dir
        self._run_storage = KeptSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = KeptSqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> TunedSqliteStorage:  # type: ignore[override]
        return cls.from_local(inst_data=inst_data, **config_value)
