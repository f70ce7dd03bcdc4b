"""S3 prefix source: one object per table and day, through dagster-aws's ``S3Resource``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import dagster as dg
import pandas as pd
from dagster_aws.s3 import S3Resource

from ml_platform.sources.base import (
    FORMATS,
    SOURCE_COLUMN,
    DaySource,
    SourceOptions,
    is_iso_day,
    read_delivery,
    register_source,
    retry_fields,
)
from ml_platform.sources.retry import PermanentSourceError, SourceError, TransientSourceError

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec

_TRANSIENT_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"}


class S3Options(SourceOptions):
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    aws_access_key_id_env: str | None = None  # env var names; resolved by Dagster (dg.EnvVar)
    aws_secret_access_key_env: str | None = None
    aws_session_token_env: str | None = None


@register_source
class S3PrefixSource(DaySource):
    """``s3://{bucket}/{prefix}/{table}/{YYYY-MM-DD}.csv|.parquet`` per day and
    ``s3://{bucket}/{prefix}/{table}.csv|.parquet`` for unpartitioned tables."""

    s3: S3Resource
    bucket: str
    prefix: str = ""
    source_kind: ClassVar[str] = "s3"
    Options: ClassVar[type[SourceOptions]] = S3Options

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> S3PrefixSource:
        opts = cls.options(source)
        s3: dict[str, Any] = {
            k: getattr(opts, k) for k in ("endpoint_url", "region_name") if getattr(opts, k)
        }
        for field in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            if getattr(opts, f"{field}_env"):
                s3[field] = dg.EnvVar(getattr(opts, f"{field}_env"))
        return cls(s3=S3Resource(**s3), bucket=opts.bucket, prefix=opts.prefix, **retry_fields(source.retry))

    def _key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))

    def uri(self, table: str) -> str:
        return f"s3://{self.bucket}/{self._key(table)}"

    def _client(self) -> Any:
        return self.s3.get_client()

    @staticmethod
    def _classify(exc: Exception) -> type[SourceError] | None:
        from botocore import exceptions as be

        if isinstance(exc, be.ConnectionError | be.HTTPClientError | ConnectionError | TimeoutError):
            return TransientSourceError  # endpoint down, connect/read timeout, connection reset
        if isinstance(exc, be.ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            return TransientSourceError if code in _TRANSIENT_CODES or status >= 500 else PermanentSourceError
        if isinstance(exc, be.BotoCoreError):
            return PermanentSourceError  # e.g. no credentials
        return None

    def _objects(self, prefix: str) -> dict[str, dict[str, Any]]:
        client = self._client()
        found: dict[str, dict[str, Any]] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = obj
        return found

    def _read_object(self, base: str, what: str) -> pd.DataFrame:
        keys = self._objects(base + ".")
        for ext in FORMATS:
            if base + ext in keys:
                body = self._client().get_object(Bucket=self.bucket, Key=base + ext)["Body"].read()
                frame = read_delivery(body, base + ext, f"s3 source s3://{self.bucket}/{base}{ext}")
                frame[SOURCE_COLUMN] = f"s3://{self.bucket}/{base}{ext}"
                return frame
        raise PermanentSourceError(f"s3 source: no {what} at s3://{self.bucket}/{base}.csv|.parquet")

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
        return self._read_object(self._key(table, day.isoformat()), f"delivery for table '{table}' on {day}")

    def _fetch_static(self, table: str) -> pd.DataFrame:
        return self._read_object(self._key(table), f"object for table '{table}'")

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        folder = self._key(table) + "/"
        what = f"s3 source {self.uri(table)}, listing days"
        objects = self._retrying(lambda: self._objects(folder), what)
        found: dict[str, str] = {}
        for key, obj in sorted(objects.items()):
            name = key[len(folder) :]
            day, _, ext = name.partition(".")
            if "." + ext in FORMATS and is_iso_day(day):
                found[day] = str(obj.get("ETag", "")).strip('"') + f"-{obj.get('Size', '')}"
        return found
