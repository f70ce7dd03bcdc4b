"""Transient faults are retried, permanent ones fail fast: a real HTTP server on 127.0.0.1 that
answers 503 / resets the connection / stalls past the read timeout N times then succeeds, or
answers 401/404; a PostgreSQL port with nothing listening (disconnect) and a missing table on the
machine's PostgreSQL; an S3 endpoint that is down and a moto S3 server. The raw asset is
materialized on a real Dagster instance for the end-to-end cases."""

from __future__ import annotations

import datetime as dt
import socket
import struct
import time
from pathlib import Path

import dagster as dg
import pytest

from devtools.http_api import LandingApiHandler, LandingApiServer
from ml_platform.environments import local_environment
from ml_platform.pipeline.assets.ingestion import raw_asset
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.base import build_source
from ml_platform.sources.http import HttpSource
from ml_platform.sources.retry import PermanentSourceError, TransientSourceError
from ml_platform.sources.sql import SqlSource
from ml_platform.specs.models import SourceSpec
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.instances import local_instance
from ml_platform_tests.source_fixtures import (  # noqa: F401
    free_port,
    moto_endpoint,
    postgres_url,
    with_source,
)

DAY = dt.date(2024, 1, 2)
DATES = ("year", "month", "day")
FAST = {"max_retries": 3, "retry_base_delay_seconds": 0.01, "retry_max_delay_seconds": 0.05}


class FaultyHandler(LandingApiHandler):
    """Misbehaves for the first ``server.failures`` day requests, in the way ``server.mode`` says."""

    def do_GET(self) -> None:  # noqa: N802
        server = self.server
        if "/days/" in self.path and server.failures > 0:  # type: ignore[attr-defined]
            server.failures -= 1  # type: ignore[attr-defined]
            server.requests.append(f"FAULT {self.path}")
            mode = server.mode  # type: ignore[attr-defined]
            if mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if mode == "slow":
                time.sleep(0.6)  # past the client's read timeout; the client has given up
                self.close_connection = True
                return None
            if mode == "schema":
                return self._send(200, {"rows": []})  # well-formed JSON, wrong shape
            return self._send(int(mode), {"error": "injected fault"})
        return super().do_GET()

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the reset connection is gone


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults")
    write_synthetic_landing(path, days=3)
    return path


def _server(landing: Path, mode: str, failures: int) -> LandingApiServer:
    server = LandingApiServer(landing, handler=FaultyHandler)
    server.mode, server.failures = mode, failures  # type: ignore[attr-defined]
    return server.start()


@pytest.mark.parametrize("mode", ["503", "500", "429", "reset", "slow"])
def test_http_transient_faults_recover_after_retries(landing: Path, mode: str) -> None:
    server = _server(landing, mode, failures=2)
    try:
        source = HttpSource(base_url=server.url, read_timeout_seconds=0.3, **FAST)
        frame = source.fetch_days("sales", DAY, DAY, DATES)
    finally:
        server.stop()
    assert len(frame) == 8 and set(frame["_partition"]) == {DAY.isoformat()}
    day_requests = [r for r in server.requests if "/days/2024-01-02" in r]
    assert len(day_requests) == 3 and sum(r.startswith("FAULT") for r in day_requests) == 2


def test_http_transient_faults_beyond_max_retries_fail_naming_source_day_cause(landing: Path) -> None:
    server = _server(landing, "503", failures=10)
    try:
        source = HttpSource(base_url=server.url, **FAST)
        with pytest.raises(TransientSourceError) as err:
            source.fetch_days("sales", DAY, DAY, DATES)
    finally:
        server.stop()
    text = str(err.value)
    assert server.url in text and "2024-01-02" in text and "HTTP 503" in text and "4 attempts" in text
    assert len([r for r in server.requests if r.startswith("FAULT")]) == 4


@pytest.mark.parametrize(
    ("token", "day", "cause"), [("wrong", DAY, "401"), ("right", dt.date(2030, 1, 1), "404")]
)
def test_http_permanent_faults_fail_fast(landing: Path, token: str, day: dt.date, cause: str) -> None:
    server = LandingApiServer(landing, token="right").start()
    try:
        source = HttpSource(base_url=server.url, token=token, **FAST)
        started = time.perf_counter()
        with pytest.raises(PermanentSourceError) as err:
            source.fetch_days("sales", day, day, DATES)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    text = str(err.value)
    assert f"HTTP {cause}" in text and day.isoformat() in text and "table 'sales'" in text
    assert "not retried" in text and len(server.requests) == 1 and elapsed < 5


def test_http_wrong_body_shape_is_a_permanent_schema_fault(landing: Path) -> None:
    server = _server(landing, "schema", failures=10)
    try:
        with pytest.raises(
            PermanentSourceError, match=r"day 2024-01-02: permanent failure.*expected \{'records'"
        ):
            HttpSource(base_url=server.url, **FAST).fetch_days("sales", DAY, DAY, DATES)
    finally:
        server.stop()
    assert len([r for r in server.requests if r.startswith("FAULT")]) == 1


def _materialize_raw(landing: Path, home: Path, failures: int) -> dg.ExecuteInProcessResult:
    """The raw asset from an API answering 503 ``failures`` times (spec: 2 retries)."""
    server = _server(landing, "503", failures=failures)
    spec = with_source(
        synthetic_regression_spec(landing, days=6),
        "http",
        {"base_url": server.url},
        retry={"max_retries": 2, "base_delay_seconds": 0.01},
    )
    pipeline = PipelineNames(spec)
    try:
        with local_instance() as instance:
            return dg.materialize(
                [raw_asset(pipeline, spec.main_table)],
                partition_key=DAY.isoformat(),
                resources=dict(local_environment(home).resources([spec])),
                instance=instance,
                raise_on_error=False,
            )
    finally:
        server.stop()


def test_raw_asset_recovers_from_a_flaky_api_with_the_spec_retry_settings(
    landing: Path, tmp_path: Path
) -> None:
    result = _materialize_raw(landing, tmp_path, failures=2)
    assert result.success
    assert len(result.output_for_node("synthetic_demand__raw_sales")) == 8


def test_raw_asset_fails_with_source_day_and_cause_when_retries_run_out(
    landing: Path, tmp_path: Path
) -> None:
    result = _materialize_raw(landing, tmp_path, failures=5)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert "http source" in message and "2024-01-02" in message and "HTTP 503" in message
    assert "3 attempts (2 retries)" in message


def test_sql_disconnect_is_transient_and_retried() -> None:
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    source = SqlSource(url=url, **FAST)
    with pytest.raises(
        TransientSourceError, match=r"day 2024-01-02: still failing after 4 attempts.*refused"
    ):
        source.fetch_days("sales", DAY, DAY, DATES)


def test_sql_missing_table_is_permanent(postgres_url: str) -> None:  # noqa: F811
    source = SqlSource(url=postgres_url, **FAST)
    with pytest.raises(
        PermanentSourceError, match=r"table 'sales', day 2024-01-02: permanent failure.*sales"
    ):
        source.fetch_days("sales", DAY, DAY, DATES)


def test_s3_endpoint_down_is_transient_missing_object_is_permanent(moto_endpoint: str) -> None:  # noqa: F811
    down = build_source(
        SourceSpec(
            kind="s3",
            options={"bucket": "b", "endpoint_url": f"http://127.0.0.1:{free_port()}"},
            retry={"max_retries": 1, "base_delay_seconds": 0.01},  # type: ignore[arg-type]
        ),
        Path("."),
    )
    with pytest.raises(TransientSourceError, match="still failing after 2 attempts"):
        down.fetch_days("sales", DAY, DAY, DATES)
    up = build_source(
        SourceSpec(kind="s3", options={"bucket": "nope", "endpoint_url": moto_endpoint}), Path(".")
    )
    with pytest.raises(PermanentSourceError, match=r"s3://nope.*day 2024-01-02.*NoSuchBucket"):
        up.fetch_days("sales", DAY, DAY, DATES)
