"""SQL table source: rows for a day selected by the date columns (or a time column), any SQLAlchemy URL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr, model_validator

from ml_platform.sources.base import DaySource, SourceOptions, fingerprint, register_source, retry_fields
from ml_platform.sources.retry import PermanentSourceError, SourceError, TransientSourceError

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec

_PERMANENT_SQLITE = ("no such table", "no such column", "syntax error")


class SqlOptions(SourceOptions):
    url: str | None = None  # any SQLAlchemy URL; ``sqlite:///relative.db`` is under the home
    url_env: str | None = None  # or the env var holding it (resolved by Dagster)
    schema_: str | None = None
    time_column: str | None = None
    version_column: str | None = None

    model_config = SourceOptions.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _schema_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "schema" in data:
            data = {**data, "schema_": data["schema"]}
            del data["schema"]
        return data

    @model_validator(mode="after")
    def _one_url(self) -> SqlOptions:
        if not (self.url or self.url_env):
            raise ValueError("source kind 'sql' needs option 'url' or 'url_env' (see docs/sources.md)")
        return self


def _local_sqlite(url: str, home: Path) -> str:
    """``sqlite:///relative.db`` is taken relative to the environment's home."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(home / url[len(prefix) :])
    return url


@register_source
class SqlSource(DaySource):
    """``SELECT * FROM [schema.]<table> WHERE year = … AND month = … AND day = …`` (the spec's
    date columns), or ``WHERE time_column >= day AND time_column < day + 1`` when ``time_column`` is
    set. ``version_column`` (e.g. a load timestamp) marks re-deliveries and is not delivered."""

    url: str
    db_schema: str | None = None
    time_column: str | None = None
    version_column: str | None = None
    _engine: Any = PrivateAttr(default=None)
    source_kind: ClassVar[str] = "sql"
    Options: ClassVar[type[SourceOptions]] = SqlOptions

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> SqlSource:
        opts = cls.options(source)
        url = dg.EnvVar(opts.url_env) if opts.url_env else _local_sqlite(str(opts.url), home)
        return cls(
            url=url,
            db_schema=opts.schema_,
            time_column=opts.time_column,
            version_column=opts.version_column,
            **retry_fields(source.retry),
        )

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

    def _time_column(self, date_columns: tuple[str, ...]) -> str | None:
        """The option, else the spec's one time column (ISO text or a timestamp; days are compared
        as in the database, so a custom format or a timezone needs ``time_column`` views)."""
        return self.time_column or (date_columns[0] if len(date_columns) == 1 else None)

    def _day_filter(self, day: dt.date, date_columns: tuple[str, ...]) -> Any:
        import sqlalchemy as sa

        time_column = self._time_column(date_columns)
        if time_column:
            col: Any = sa.column(time_column)
            return sa.and_(col >= day.isoformat(), col < (day + dt.timedelta(days=1)).isoformat())
        y, m, d = (sa.column(c) for c in date_columns)  # type: ignore[var-annotated]
        return sa.and_(y == day.year, m == day.month, d == day.day)

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
        import sqlalchemy as sa

        query = (
            sa.select(sa.text("*")).select_from(self._table(table)).where(self._day_filter(day, date_columns))
        )
        return self._read(query)

    def _fetch_static(self, table: str) -> pd.DataFrame:
        import sqlalchemy as sa

        return self._read(sa.select(sa.text("*")).select_from(self._table(table)))

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        import sqlalchemy as sa

        time_column = self._time_column(date_columns)
        if time_column:
            keys: list[Any] = [sa.func.date(sa.column(time_column)).label("d")]
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
                    if time_column
                    else dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
                )
            except (TypeError, ValueError):
                continue  # rows without a valid date are the cleaning step's business
            found[day.isoformat()] = fingerprint(n, v)
        return found

    def _read_rows(self, query: Any) -> list[Any]:
        with self.engine().connect() as conn:
            return list(conn.execute(query))
