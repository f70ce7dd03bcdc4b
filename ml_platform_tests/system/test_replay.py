"""``ml-platform replay`` as a user runs it: the real console script publishes bundled days into a
landing dir (then the new-data sensor asks for the lookups and the days, and an ingest run
succeeds), serves them as a local HTTP API on 127.0.0.1 (a subprocess stopped by PID), and — in
process — fills a SQLite table and a moto S3 server over HTTP."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.ops.cli import main
from ml_platform.sources.base import build_source
from ml_platform.specs.models import SourceSpec
from ml_platform_tests.helpers import short_flights_spec
from ml_platform_tests.instances import local_instance
from ml_platform_tests.sensor_driver import SensorDriver
from ml_platform_tests.source_fixtures import free_port, moto_endpoint  # noqa: F401

DATES = ("year", "month", "day")
CLI = shutil.which("ml-platform", path=str(Path(sys.executable).parent)) or "ml-platform"


def _cli_env(home: Path) -> dict[str, str]:
    repo = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": repo, "ML_PLATFORM_HOME": str(home)}


def test_replay_to_file_feeds_the_new_data_sensor(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLI, "replay", "--to", "file", "--days", "2"],
        env=_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "published 2013-01-02: flights 943 rows, weather 72 rows" in done.stdout
    landing = tmp_path / "landing"
    assert sorted(p.name for p in (landing / "flights").iterdir()) == ["2013-01-01.csv", "2013-01-02.csv"]

    spec = short_flights_spec(
        source={"kind": "landing_dir", "options": {"path": str(landing), "quiet_seconds": 0}}
    )
    defs = build_definitions([spec], local_environment(tmp_path / "home"))
    with local_instance() as instance:
        sensor = SensorDriver(defs, "flights_delay_new_data_sensor", instance)
        (lookups,), _ = sensor.tick()
        assert lookups.job_name == "flights_delay_lookups"
        assert [r.run_key for r in sensor.tick()[0]] == [lookups.run_key]  # same key: the daemon dedups
        assert sensor.run(lookups).success
        (days,), _ = sensor.tick()  # both days as one single-run backfill over their range
        assert days.partition_key_range == dg.PartitionKeyRange("2013-01-01", "2013-01-02")
        assert sensor.run(days).success
        assert sensor.tick()[0] == []


def test_new_data_sensor_evaluates_through_a_dagster_code_server(tmp_path: Path) -> None:
    """The daemon's path (code server, resources from the context), via ``dagster sensor preview``."""
    landing = tmp_path / "landing"
    assert main(["replay", "--to", "file", "--days", "1", "--path", str(landing)]) == 0
    defs_file = tmp_path / "landing_defs.py"
    defs_file.write_text(
        "from ml_platform.definitions import build_definitions\n"
        "from ml_platform.environments import local_environment\n"
        "from ml_platform_tests.helpers import short_flights_spec\n"
        f"spec = short_flights_spec(source={{'kind': 'landing_dir', 'options': {{'path': {str(landing)!r}, 'quiet_seconds': 0}}}})\n"
        f"defs = build_definitions([spec], local_environment({str(tmp_path / 'home')!r}))\n"
    )
    (tmp_path / "dagster_home").mkdir()
    dagster = str(Path(sys.executable).parent / "dagster")
    done = subprocess.run(
        [dagster, "sensor", "preview", "flights_delay_new_data_sensor", "-f", str(defs_file)],
        env={**_cli_env(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster_home")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "run requests for 1 run(s)" in done.stdout  # the lookups come first


def test_replay_to_http_serves_a_local_api_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "replay", "--to", "http", "--days", "2", "--port", str(port), "--serve-seconds", "120"],
        env=_cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)],
    )
    try:
        lines: list[str] = []
        for line in proc.stdout:  # type: ignore[union-attr]  # EOF if it dies; it stops itself at 120 s
            lines.append(line)
            if "serving until" in line:
                break
        assert proc.poll() is None, "".join(lines)
        assert f"serving http://127.0.0.1:{port}" in "".join(lines)
        source = build_source(
            SourceSpec(kind="http", options={"base_url": f"http://127.0.0.1:{port}"}), tmp_path
        )
        assert sorted(source.list_deliveries("flights", DATES)) == ["2013-01-01", "2013-01-02"]
        day = source.fetch_days("flights", dt.date(2013, 1, 2), dt.date(2013, 1, 2), DATES)
        assert len(day) == 943
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_replay_to_sql_and_s3(tmp_path: Path, moto_endpoint: str) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    assert main(["replay", "--to", "sql", "--days", "3", "--url", url]) == 0
    assert (
        main(["replay", "--to", "s3", "--days", "3", "--bucket", "replay", "--endpoint-url", moto_endpoint])
        == 0
    )
    for kind, options in (
        ("sql", {"url": url, "version_column": "_loaded_at"}),
        ("s3", {"bucket": "replay", "endpoint_url": moto_endpoint}),
    ):
        source = build_source(SourceSpec(kind=kind, options=options), tmp_path)  # type: ignore[arg-type]
        assert sorted(source.list_deliveries("weather", DATES)) == ["2013-01-01", "2013-01-02", "2013-01-03"]
        assert len(source.fetch_static("planes")) == 3322
