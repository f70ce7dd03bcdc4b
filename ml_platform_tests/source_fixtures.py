"""Real servers for source tests: a moto S3 server over HTTP, a uniquely named PostgreSQL database,
and the landing-dir JSON API, each on 127.0.0.1 (free ports) and stopped/dropped in teardown.

Import the fixtures into a test module to use them (``from ml_platform_tests.source_fixtures import …``).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

PG_ADMIN = os.environ.get("ML_PLATFORM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable(what: str, exc: Exception) -> None:
    if os.environ.get("CI") == "true":
        raise exc
    pytest.skip(f"{what} not available here: {exc}")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server (ThreadedMotoServer, real HTTP) on a free 127.0.0.1 port."""
    from moto.server import ThreadedMotoServer

    old = {k: os.environ.get(k) for k in S3_ENV}
    os.environ.update(S3_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database ``mlp_sources_<uuid8>`` on the machine's PostgreSQL, dropped afterwards."""
    import sqlalchemy as sa

    name = f"mlp_sources_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def with_source(spec: Any, kind: str, options: dict[str, Any], **extra: Any) -> Any:
    """``spec`` re-validated with another ``source`` section (switching source is a spec change)."""
    from ml_platform.specs import parse_spec

    data = spec.model_dump(mode="json")
    data["source"] = {"kind": kind, "options": options, **extra}
    return parse_spec(data)
