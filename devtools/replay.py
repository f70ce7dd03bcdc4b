"""``ml-platform replay``: publish a spec's data day by day into a source (landing dir, local HTTP
API, SQL table, S3 prefix), so the new-data sensors have something to react to. The days are read
from the spec's own source, or split out of whole files (``--from``, e.g. a CSV a package ships),
by the spec's ``partitioning.time``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from devtools.publish import FilePublisher, Publisher, S3Publisher, SqlPublisher
from devtools.split import FileTables
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform.specs.models import PipelineSpec

KINDS = ("file", "http", "sql", "s3")


def add_parser(sub: Any) -> None:
    replay = sub.add_parser("replay", help="publish a spec's data day by day into a source")
    replay.add_argument("--to", choices=KINDS, required=True, help="kind of source to publish into")
    replay.add_argument("--days", type=int, default=None, help="how many days (default: the spec's all)")
    replay.add_argument("--start", default=None, help="first day (default: the spec's start)")
    replay.add_argument("--interval", type=float, default=0.0, help="seconds between days (default 0)")
    replay.add_argument(
        "--spec",
        action="append",
        default=None,
        help="spec name or path (repeatable; default: all configured)",
    )
    replay.add_argument(
        "--from",
        dest="from_files",
        action="append",
        default=None,
        metavar="[TABLE=]FILE",
        help="read a table from one whole CSV/Parquet file (or PACKAGE:RESOURCE, a file an installed "
        "package ships) instead of the spec's source; TABLE defaults to the main table",
    )
    replay.add_argument(
        "--path",
        default=None,
        help="file/http: landing dir (default: the spec's landing_dir path, else $ML_PLATFORM_HOME/landing)",
    )
    replay.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file/s3 format")
    replay.add_argument("--url", default=None, help="sql: SQLAlchemy URL (default sqlite under the home)")
    replay.add_argument("--bucket", default=None, help="s3: bucket (created if missing)")
    replay.add_argument("--prefix", default="", help="s3: key prefix")
    replay.add_argument("--endpoint-url", default=None, help="s3: endpoint (e.g. a moto server)")
    replay.add_argument("--port", type=int, default=0, help="http: port on 127.0.0.1 (default: a free one)")
    replay.add_argument(
        "--serve-seconds", type=float, default=None, help="http: stop serving after this (default: Ctrl-C)"
    )
    replay.set_defaults(fn=cmd_replay)


def _home() -> Path:
    return Path(os.environ.get("ML_PLATFORM_HOME", ".ml_platform")).resolve()


def _default_landing(spec: PipelineSpec | None, to: str) -> Path:
    if spec is not None and to == "file" and spec.source.kind == "landing_dir":
        path = Path(str(spec.source.options["path"]))
        return path if path.is_absolute() else _home() / path
    return _home() / ("landing" if to == "file" else "http_landing")


def _publisher(
    args: argparse.Namespace, spec: PipelineSpec | None = None
) -> tuple[Publisher, dict[str, Any]]:
    """The publisher and the spec ``source`` section that reads what it publishes."""
    if args.to in ("file", "http"):
        path = Path(args.path) if args.path else _default_landing(spec, args.to)
        return FilePublisher(path, fmt=args.format), {
            "kind": "landing_dir",
            "options": {"path": str(path), "quiet_seconds": 0},
        }  # renamed into place
    if args.to == "sql":
        url = args.url or f"sqlite:///{_home() / 'source.db'}"
        return SqlPublisher(url), {"kind": "sql", "options": {"url": url, "version_column": "_loaded_at"}}
    if not args.bucket:
        raise SystemExit("replay --to s3 needs --bucket")
    import boto3

    client = boto3.client("s3", endpoint_url=args.endpoint_url)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if args.bucket not in existing:
        client.create_bucket(Bucket=args.bucket)
    options = {"bucket": args.bucket, "prefix": args.prefix, "endpoint_url": args.endpoint_url}
    return S3Publisher(client, args.bucket, args.prefix, fmt=args.format), {
        "kind": "s3",
        "options": {k: v for k, v in options.items() if v},
    }


def _reader(spec: PipelineSpec, from_files: list[str] | None) -> Any:
    """What days are read from: whole files split by the spec's time, or the spec's own source."""
    if from_files:
        return FileTables.from_arguments(spec, from_files)
    from ml_platform.sources.base import build_source

    return build_source(spec.source, _home())


def replay_days(
    publisher: Publisher,
    spec_name: str | PipelineSpec,
    start: dt.date | None,
    days: int | None,
    interval: float = 0.0,
    say: Callable[[str], None] = print,
    from_files: list[str] | None = None,
) -> list[str]:
    """Publish lookups once, then ``days`` days (default: every day of the spec from ``start``) of
    every partitioned table; the days published. A day without rows is reported, not published."""
    from ml_platform.specs import resolve_spec

    spec = resolve_spec(spec_name) if isinstance(spec_name, str) else spec_name
    reader = _reader(spec, from_files)
    tables = [spec.main_table, *spec.auxiliary_tables]
    for table in (t for t in tables if not t.partitioned):
        frame = reader.fetch_static(table.table).drop(columns=[SOURCE_COLUMN], errors="ignore")
        say(f"lookup {table.table}: {len(frame)} rows -> {publisher.publish_static(table.table, frame)}")
    first = start or spec.partitioning.start
    count = days if days is not None else (spec.partitioning.end - first).days + 1
    published = []
    for n in range(count):
        day = first + dt.timedelta(days=n)
        counts = []
        for table in (t for t in tables if t.partitioned):
            frame = reader.fetch_days(table.table, day, day, spec.partitioning.day_columns)
            if len(frame) == 0 and from_files:
                counts.append(f"{table.table} no rows (not published)")
                continue
            publisher.publish_day(table.table, day, _as_delivered(frame))
            counts.append(f"{table.table} {len(frame)} rows")
        published.append(day.isoformat())
        say(f"published {day}: {', '.join(counts)}")
        if interval and n < count - 1:
            time.sleep(interval)
    return published


def _as_delivered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[SOURCE_COLUMN, PARTITION_COLUMN], errors="ignore")


def cmd_replay(args: argparse.Namespace) -> int:
    from ml_platform.specs import selected_specs

    specs = selected_specs(args.spec)
    if args.from_files and len(specs) != 1:
        raise ValueError("replay --from reads files for one spec: name it with --spec")
    publisher, source = _publisher(args, specs[0] if len(specs) == 1 else None)
    start = dt.date.fromisoformat(args.start) if args.start else None
    server = None
    if args.to == "http":
        from devtools.http_api import LandingApiServer

        server = LandingApiServer(source["options"]["path"], port=args.port).start()
        source = {"kind": "http", "options": {"base_url": server.url}}
        print(f"serving {server.url} (landing dir {publisher.path})", flush=True)  # type: ignore[attr-defined]
    print(f"spec source section: {source}", flush=True)
    try:
        for spec in specs:
            replay_days(
                publisher,
                spec,
                start,
                args.days,
                args.interval,
                say=lambda m: print(m, flush=True),
                from_files=args.from_files,
            )
        if server is not None:
            _serve_until(args.serve_seconds)
    finally:
        if server is not None:
            server.stop()
        if isinstance(publisher, SqlPublisher):
            publisher.close()
    return 0


def _serve_until(seconds: float | None) -> None:
    """Keep the API up until Ctrl-C / SIGTERM (or ``seconds``)."""
    stop = {"now": False}

    def _stop(signum: int, frame: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    deadline = time.monotonic() + seconds if seconds else None
    print("all days published; serving until Ctrl-C", flush=True)
    try:
        while not stop["now"] and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
