"""SQL table source: rows for a day selected by the date columns (or a time column), any SQLAlchemy URL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from ml_platform.resources.retry import PermanentSourceError, SourceError, TransientSourceError
from ml_platform.resources.sources import DaySource, fingerprint

_PERMANENT_SQLITE = ("no such table", "no such column", "syntax error")


class SqlSource(DaySource):
    """``SELECT * FROM [schema.]<table> WHERE year = … AND month = … AND day = …`` (the spec's
    date columns), or ``WHERE time_column >= day AND time_column < day + 1`` when ``time_column`` is
    set. ``version_column`` (e.g. a load timestamp) marks re-deliveries and is not delivered."""

    url: str
    db_schema: str | None = None
    time_column: str | None = None
    version_column: str | None = None
    _engine: Any = PrivateAttr(default=None)

    @property
    def kind(self) -> str:
        return "sql"

    def _url(self) -> str:
        return self.url.get_value() or "" if isinstance(self.url, dg.EnvVar) else self.url

    def uri(self, table: str) -> str:
        from sqlalchemy.engine import make_url

        safe = make_url(self._url()).render_as_string(hide_password=True)
        return f"{safe}#{self.db_schema + '.' if self.db_schema else ''}{table}"

    def engine(self) -> Any:
        if self._engine is None:
            import sqlalchemy as sa

            self._engine = sa.create_engine(self._url(), pool_pre_ping=True)
        return self._engine

    def _table(self, table: str) -> Any:
        import sqlalchemy as sa

        return sa.table(table, schema=self.db_schema)

    @staticmethod
    def _classify(exc: Exception) -> type[SourceError] | None:
        from sqlalchemy import exc as sa_exc

        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return TransientSourceError
        if isinstance(exc, sa_exc.OperationalError):
            text = str(exc.orig).lower()
            return PermanentSourceError if any(t in text for t in _PERMANENT_SQLITE) else TransientSourceError
        if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError | sa_exc.InterfaceError):
            return TransientSourceError
        if isinstance(exc, sa_exc.SQLAlchemyError):
            return PermanentSourceError  # ProgrammingError (no such relation/column), DataError, …
        return None

    def _read(self, statement: Any) -> pd.DataFrame:
        with self.engine().connect() as conn:
            frame = pd.read_sql(statement, conn)
        return frame.drop(columns=[self.version_column], errors="ignore") if self.version_column else frame

    def _day_filter(self, day: dt.date, date_columns: tuple[str, str, str]) -> Any:
        import sqlalchemy as sa

        if self.time_column:
            col: Any = sa.column(self.time_column)
            return sa.and_(col >= day.isoformat(), col < (day + dt.timedelta(days=1)).isoformat())
        y, m, d = (sa.column(c) for c in date_columns)  # type: ignore[var-annotated]
        return sa.and_(y == day.year, m == day.month, d == day.day)

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, str, str]) -> pd.DataFrame:
        import sqlalchemy as sa

        query = (
            sa.select(sa.text("*")).select_from(self._table(table)).where(self._day_filter(day, date_columns))
        )
        return self._read(query)

    def _fetch_static(self, table: str) -> pd.DataFrame:
        import sqlalchemy as sa

        return self._read(sa.select(sa.text("*")).select_from(self._table(table)))

    def list_deliveries(self, table: str, date_columns: tuple[str, str, str]) -> dict[str, str]:
        import sqlalchemy as sa

        if self.time_column:
            keys: list[Any] = [sa.func.date(sa.column(self.time_column)).label("d")]
        else:
            keys = [sa.column(c) for c in date_columns]
        version = sa.func.max(sa.column(self.version_column)) if self.version_column else sa.literal("")
        query = sa.select(*keys, sa.func.count().label("n"), version.label("v")).select_from(
            self._table(table)
        )
        query = query.group_by(*keys)
        what = f"sql source {self.uri(table)}, table '{table}', listing days"
        if not self._retrying(lambda: sa.inspect(self.engine()).has_table(table, self.db_schema), what):
            return {}  # nothing delivered yet
        rows = self._retrying(lambda: self._read_rows(query), what)
        found: dict[str, str] = {}
        for row in rows:
            *parts, n, v = row
            try:
                day = (
                    dt.date.fromisoformat(str(parts[0])[:10])
                    if self.time_column
                    else dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
                )
            except (TypeError, ValueError):
                continue  # rows without a valid date are the cleaning step's business
            found[day.isoformat()] = fingerprint(n, v)
        return found

    def _read_rows(self, query: Any) -> list[Any]:
        with self.engine().connect() as conn:
            return list(conn.execute(query))
