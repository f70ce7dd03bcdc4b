"""Build the source resource a spec's ``source`` section names (kind + options + retry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from ml_platform.resources.sources import DataSource
from ml_platform.specs.models import RetrySpec, SourceSpec


def retry_fields(retry: RetrySpec) -> dict[str, Any]:
    return {
        "max_retries": retry.max_retries,
        "retry_base_delay_seconds": retry.base_delay_seconds,
        "retry_max_delay_seconds": retry.max_delay_seconds,
        "retry_jitter": retry.jitter,
    }


def _require(source: SourceSpec, *names: str) -> None:
    missing = [n for n in names if not source.options.get(n)]
    if missing:
        raise ValueError(f"source kind '{source.kind}' needs option(s) {missing} (see docs/sources.md)")


def _local_sqlite(url: str, home: Path) -> str:
    """``sqlite:///relative.db`` is taken relative to the environment's home."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(home / url[len(prefix) :])
    return url


def build_source(source: SourceSpec, home: Path) -> DataSource:
    """The resource for ``http``, ``sql`` and ``s3`` sources. Secrets come from environment variables
    named in the options (``token_env``, ``aws_*_env``) and are resolved by Dagster (``dg.EnvVar``)."""
    opts, retry = source.options, retry_fields(source.retry)
    if source.kind == "http":
        from ml_platform.resources.sources_http import HttpSource

        _require(source, "base_url")
        extra = {
            k: opts[k] for k in ("page_size", "connect_timeout_seconds", "read_timeout_seconds") if k in opts
        }
        token = dg.EnvVar(opts["token_env"]) if opts.get("token_env") else None
        return HttpSource(base_url=opts["base_url"], token=token, **extra, **retry)
    if source.kind == "sql":
        from ml_platform.resources.sources_sql import SqlSource

        if not (opts.get("url") or opts.get("url_env")):
            raise ValueError("source kind 'sql' needs option 'url' or 'url_env' (see docs/sources.md)")
        url = dg.EnvVar(opts["url_env"]) if opts.get("url_env") else _local_sqlite(str(opts["url"]), home)
        return SqlSource(
            url=url,
            db_schema=opts.get("schema"),
            time_column=opts.get("time_column"),
            version_column=opts.get("version_column"),
            **retry,
        )
    if source.kind == "s3":
        from dagster_aws.s3 import S3Resource

        from ml_platform.resources.sources_s3 import S3PrefixSource

        _require(source, "bucket")
        s3: dict[str, Any] = {k: opts[k] for k in ("endpoint_url", "region_name") if opts.get(k)}
        for field in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            if opts.get(f"{field}_env"):
                s3[field] = dg.EnvVar(opts[f"{field}_env"])
        return S3PrefixSource(
            s3=S3Resource(**s3), bucket=opts["bucket"], prefix=opts.get("prefix", ""), **retry
        )
    raise ValueError(f"unknown source kind '{source.kind}'")
