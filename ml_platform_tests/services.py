"""Real servers for tests: a moto S3 server over HTTP on a free 127.0.0.1 port, throwaway Postgres
databases on the machine's PostgreSQL. Fixtures here are imported by the test modules that use them."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

PG_HOST = os.environ.get("ML_PLATFORM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ML_PLATFORM_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("ML_PLATFORM_TEST_PG_USER", "postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def missing_service(reason: str) -> None:
    """Fail under CI (nothing may skip there), skip elsewhere, saying why."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class MotoS3:
    endpoint_url: str
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = "us-east-1"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def new_bucket(self) -> str:
        name = f"mlp-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A moto S3 server over HTTP (threaded, in this process), stopped at session end."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoS3(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def pg_connect(dbname: str = "test"):  # type: ignore[no-untyped-def]
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=3)
    conn.autocommit = True
    return conn


def _admin(sql: str) -> None:
    conn = pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_database(purpose: str) -> str:
    name = f"mlp_{purpose}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> str | None:
    """None if the local PostgreSQL answers, else why not."""
    try:
        pg_connect().close()
    except Exception as exc:  # psycopg2.OperationalError and friends
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}"
    return None


@pytest.fixture(scope="session")
def spark_session() -> Iterator:
    """One local[2] SparkSession for every Spark test in this process (startup is slow). Feature
    engines built later in the process get the same session (``getOrCreate``)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # spark_udf workers: this venv
    from pyspark.sql import SparkSession

    from ml_platform.features.engine import spark_config

    builder = SparkSession.builder
    for key, value in spark_config("local[2]").items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
