"""Publish delivered days into a source (landing dir, SQL table, S3 prefix): used by
``ml-platform replay`` and by the tests to build real deliveries. Writes are atomic per day."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pandas as pd

LOADED_AT = "_loaded_at"


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "parquet":
        return frame.to_parquet(index=False)
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    raise ValueError(f"unknown format '{fmt}' (csv or parquet)")


class Publisher(ABC):
    """Where ``replay`` writes: one delivery per table and day, plus unpartitioned tables."""

    @abstractmethod
    def publish_day(self, table: str, day: dt.date, frame: pd.DataFrame) -> str:
        """Deliver ``frame`` as ``table``'s data for ``day`` (replacing an earlier delivery); its URI."""

    @abstractmethod
    def publish_static(self, table: str, frame: pd.DataFrame) -> str: ...

    def publish_bytes(self, table: str, day: dt.date, data: bytes, ext: str) -> str:
        raise NotImplementedError(f"{type(self).__name__} takes frames, not raw files")


class FilePublisher(Publisher):
    """``<path>/<table>/<day>.<fmt>`` written to a temp file then renamed (readers never see half)."""

    def __init__(self, path: Path | str, fmt: str = "csv") -> None:
        self.path, self.fmt = Path(path), fmt

    def _write(self, target: Path, data: bytes) -> str:
        target.parent.mkdir(parents=True, exist_ok=True)
        for other in target.parent.glob(target.name.split(".")[0] + ".*"):
            if other.suffix in (".csv", ".parquet") and other != target:
                other.unlink()  # one delivery per day, whatever its format
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
        return target.resolve().as_uri()

    def publish_day(self, table: str, day: dt.date, frame: pd.DataFrame) -> str:
        return self._write(self.path / table / f"{day.isoformat()}.{self.fmt}", encode(frame, self.fmt))

    def publish_static(self, table: str, frame: pd.DataFrame) -> str:
        return self._write(self.path / f"{table}.{self.fmt}", encode(frame, self.fmt))

    def publish_bytes(self, table: str, day: dt.date, data: bytes, ext: str) -> str:
        return self._write(self.path / table / f"{day.isoformat()}.{ext}", data)


class S3Publisher(Publisher):
    """``s3://<bucket>/<prefix>/<table>/<day>.<fmt>`` (an S3 put is atomic)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", fmt: str = "csv") -> None:
        self.client, self.bucket, self.prefix, self.fmt = client, bucket, prefix.strip("/"), fmt

    def _put(self, key: str, data: bytes) -> str:
        key = f"{self.prefix}/{key}" if self.prefix else key
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return f"s3://{self.bucket}/{key}"

    def publish_day(self, table: str, day: dt.date, frame: pd.DataFrame) -> str:
        return self._put(f"{table}/{day.isoformat()}.{self.fmt}", encode(frame, self.fmt))

    def publish_static(self, table: str, frame: pd.DataFrame) -> str:
        return self._put(f"{table}.{self.fmt}", encode(frame, self.fmt))

    def publish_bytes(self, table: str, day: dt.date, data: bytes, ext: str) -> str:
        return self._put(f"{table}/{day.isoformat()}.{ext}", data)


class SqlPublisher(Publisher):
    """Rows into ``<table>``: a day's earlier rows are deleted and the new ones inserted in one
    transaction, each stamped with ``_loaded_at`` (the source's ``version_column``)."""

    def __init__(self, url: str, date_columns: tuple[str, str, str] = ("year", "month", "day")) -> None:
        import sqlalchemy as sa

        self.url, self.date_columns = url, date_columns
        self.engine = sa.create_engine(url)

    def _replace(self, table: str, frame: pd.DataFrame, where: Any | None) -> str:
        import sqlalchemy as sa

        stamped = frame.assign(**{LOADED_AT: dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")})
        with self.engine.begin() as conn:
            if sa.inspect(conn).has_table(table):
                delete = sa.table(table).delete()
                conn.execute(delete.where(where) if where is not None else delete)
            stamped.to_sql(table, conn, if_exists="append", index=False)
        return f"{self.engine.url.render_as_string(hide_password=True)}#{table}"

    def publish_day(self, table: str, day: dt.date, frame: pd.DataFrame) -> str:
        import sqlalchemy as sa

        y, m, d = (sa.column(c) for c in self.date_columns)  # type: ignore[var-annotated]
        return self._replace(table, frame, sa.and_(y == day.year, m == day.month, d == day.day))

    def publish_static(self, table: str, frame: pd.DataFrame) -> str:
        return self._replace(table, frame, None)

    def close(self) -> None:
        self.engine.dispose()
