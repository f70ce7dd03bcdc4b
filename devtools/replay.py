"""``ml-platform replay``: publish the bundled data day by day into a source (landing dir, local
HTTP API, SQL table, S3 prefix), so the new-data sensors have something to react to."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flights_delay.source import Nycflights13Source

from devtools.publish import FilePublisher, Publisher, S3Publisher, SqlPublisher
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.sources.base import SOURCE_COLUMN

KINDS = ("file", "http", "sql", "s3")


def add_parser(sub: Any) -> None:
    replay = sub.add_parser("replay", help="publish the bundled data day by day into a source")
    replay.add_argument("--to", choices=KINDS, required=True, help="kind of source to publish into")
    replay.add_argument("--days", type=int, required=True, help="how many days to publish")
    replay.add_argument("--start", default=None, help="first day (default: the spec's start)")
    replay.add_argument("--interval", type=float, default=0.0, help="seconds between days (default 0)")
    replay.add_argument("--spec", default="flights_delay", help="bundled spec whose tables are replayed")
    replay.add_argument(
        "--path", default=None, help="file/http: landing dir (default $ML_PLATFORM_HOME/landing)"
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


def _publisher(args: argparse.Namespace) -> tuple[Publisher, dict[str, Any]]:
    """The publisher and the spec ``source`` section that reads what it publishes."""
    if args.to in ("file", "http"):
        path = (
            Path(args.path) if args.path else _home() / ("landing" if args.to == "file" else "http_landing")
        )
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


def replay_days(
    publisher: Publisher,
    spec_name: str,
    start: dt.date | None,
    days: int,
    interval: float = 0.0,
    say: Callable[[str], None] = print,
) -> list[str]:
    """Publish lookups once, then ``days`` days of every partitioned table; the days published."""
    from ml_platform.specs import bundled_specs

    spec = next(s for s in bundled_specs() if s.name == spec_name)
    bundled = Nycflights13Source()
    tables = [spec.main_table, *spec.auxiliary_tables]
    for table in (t for t in tables if not t.partitioned):
        frame = bundled.fetch_static(table.table).drop(columns=[SOURCE_COLUMN])
        say(f"lookup {table.table}: {len(frame)} rows -> {publisher.publish_static(table.table, frame)}")
    first = start or spec.partitioning.start
    published = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        counts = []
        for table in (t for t in tables if t.partitioned):
            frame = bundled.fetch_days(table.table, day, day, spec.partitioning.date_columns)
            publisher.publish_day(table.table, day, frame.drop(columns=[SOURCE_COLUMN, PARTITION_COLUMN]))
            counts.append(f"{table.table} {len(frame)} rows")
        published.append(day.isoformat())
        say(f"published {day}: {', '.join(counts)}")
        if interval and n < days - 1:
            time.sleep(interval)
    return published


def cmd_replay(args: argparse.Namespace) -> int:
    publisher, source = _publisher(args)
    start = dt.date.fromisoformat(args.start) if args.start else None
    server = None
    if args.to == "http":
        from devtools.http_api import LandingApiServer

        server = LandingApiServer(source["options"]["path"], port=args.port).start()
        source = {"kind": "http", "options": {"base_url": server.url}}
        print(f"serving {server.url} (landing dir {publisher.path})", flush=True)  # type: ignore[attr-defined]
    print(f"spec source section: {source}", flush=True)
    try:
        replay_days(publisher, args.spec, start, args.days, args.interval, say=lambda m: print(m, flush=True))
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
