"""One deploy per model at a time, across processes and hosts: a row in a lock table of a SQL
database (the local MLflow SQLite file, or e.g. the Dagster instance's Postgres in production).

The row's primary key is the model name, so two ``INSERT``s cannot both succeed on SQLite or
Postgres. A row whose owner died (same host, dead pid) or whose lease expired is taken over."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TABLE = "ml_platform_deploy_locks"


class DeployLockTimeout(RuntimeError):
    """Another deploy of the same model held the lock for longer than we were willing to wait."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class DeployLock:
    url: str
    lease_seconds: float = 600.0
    wait_seconds: float = 120.0
    poll_seconds: float = 0.2

    def _engine(self) -> Any:
        import sqlalchemy as sa

        args = {"timeout": 10} if self.url.startswith("sqlite") else {}
        return sa.create_engine(self.url, connect_args=args, poolclass=sa.pool.NullPool)

    def _table(self) -> Any:
        import sqlalchemy as sa

        meta = sa.MetaData()
        return sa.Table(
            TABLE,
            meta,
            sa.Column("model", sa.String(256), primary_key=True),
            sa.Column("owner", sa.String(64), nullable=False),
            sa.Column("host", sa.String(256), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("note", sa.String(512)),
            sa.Column("acquired_at", sa.DateTime, nullable=False),
            sa.Column("expires_at", sa.DateTime, nullable=False),
        )

    def holder(self, model: str) -> dict[str, Any] | None:
        """The current lock row of ``model`` (``None`` if free)."""
        import sqlalchemy as sa

        engine, table = self._engine(), self._table()
        try:
            table.metadata.create_all(engine, checkfirst=True)
            with engine.connect() as conn:
                row = conn.execute(sa.select(table).where(table.c.model == model)).mappings().first()
            return dict(row) if row else None
        finally:
            engine.dispose()

    def _stale(self, row: Any, now: dt.datetime) -> bool:
        if row["expires_at"] < now:
            return True
        return bool(row["host"] == socket.gethostname() and not _pid_alive(int(row["pid"])))

    @contextlib.contextmanager
    def hold(self, model: str, note: str = "") -> Iterator[str]:
        """Hold the lock of ``model`` for the block; yields a description of any stale holder taken
        over (empty if none). Raises :class:`DeployLockTimeout` after ``wait_seconds``."""
        import sqlalchemy as sa

        engine, table = self._engine(), self._table()
        owner = uuid.uuid4().hex
        took_over = ""
        try:
            with contextlib.suppress(sa.exc.OperationalError, sa.exc.IntegrityError):
                table.metadata.create_all(engine, checkfirst=True)  # a racing creator is fine
            deadline = time.monotonic() + self.wait_seconds
            while True:
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                row = {
                    "model": model,
                    "owner": owner,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "note": note[:512],
                    "acquired_at": now,
                    "expires_at": now + dt.timedelta(seconds=self.lease_seconds),
                }
                try:
                    with engine.begin() as conn:
                        conn.execute(table.insert().values(**row))
                    break
                except sa.exc.IntegrityError:
                    pass
                with engine.begin() as conn:
                    held = conn.execute(sa.select(table).where(table.c.model == model)).mappings().first()
                    if held is not None and self._stale(held, now):
                        conn.execute(
                            table.delete().where(table.c.model == model, table.c.owner == held["owner"])
                        )
                        took_over = (
                            f"took over the deploy lock of {model} from a dead holder "
                            f"(pid {held['pid']} on {held['host']}, since {held['acquired_at']:%H:%M:%S})"
                        )
                        continue
                if time.monotonic() > deadline:
                    who = f"pid {held['pid']} on {held['host']}: {held['note']}" if held else "?"
                    raise DeployLockTimeout(
                        f"another deploy of {model} holds the lock ({who}); waited {self.wait_seconds:.0f} s"
                    )
                time.sleep(self.poll_seconds)
            yield took_over
        finally:
            with contextlib.suppress(Exception):
                with engine.begin() as conn:
                    conn.execute(table.delete().where(table.c.model == model, table.c.owner == owner))
            engine.dispose()
