"""The online endpoint as a user meets it: a real uvicorn server (``python -m
ml_platform.serving.server``) in a subprocess on a free 127.0.0.1 port, serving a real sklearn model
from a real MLflow registry (``sqlite:///…`` in tmp_path), called over HTTP with httpx. Checks the
answers against ``mlflow.pyfunc``, bad requests, a hot swap of ``champion`` under 8 concurrent
clients, a version that fails to load, the bearer token, and the prediction log on disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml_platform.integrations.mlflow_db import ensure_local_db
from ml_platform.serving.app import create_app
from ml_platform.serving.holder import ModelHolder
from ml_platform.serving.prediction_log import PredictionLog, read_prediction_log
from ml_platform_tests import serving_models as sm
from ml_platform_tests.services import free_port

TOKEN = "t0ken-never-logged-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROWS = sm.sample_rows(20)


@dataclass
class Endpoint:
    url: str
    tracking_uri: str
    artifacts: Path
    log_dir: Path
    server_log: Path
    pid: int
    acknowledged: set[str] = field(default_factory=set)  # request ids answered 200

    def predict(self, body: Any, client: httpx.Client | None = None, **kwargs: Any) -> httpx.Response:
        send = (client or httpx).post  # type: ignore[attr-defined]
        response: httpx.Response = send(f"{self.url}/predict", json=body, headers=AUTH, timeout=30, **kwargs)
        if response.status_code == 200:
            self.acknowledged.add(response.json()["request_id"])
        return response

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/health", timeout=10).json())

    def version(self) -> str:
        return str(httpx.get(f"{self.url}/version", headers=AUTH, timeout=10).json()["version"])


def close(a: Any, b: Any) -> bool:
    return bool(np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-12, atol=0))


def pyfunc_predictions(tracking_uri: str, version: str, rows: list[dict[str, Any]]) -> list[Any]:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{sm.MODEL_NAME}/{version}")
    return list(model.predict(pd.DataFrame(rows)).tolist())


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    home = tmp_path_factory.mktemp("serving")
    tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
    ensure_local_db(tracking_uri)  # the database, before the server and the test both open it
    (home / "cwd").mkdir()
    port = free_port()
    log_dir, server_log = home / "prediction_log", home / "server.log"
    command = sm.endpoint_command(
        tracking_uri, log_dir, port, "--token-env", "SERVE_TOKEN", "--poll-seconds", "0.3"
    )
    url = f"http://127.0.0.1:{port}"
    with sm.running(
        command,
        f"{url}/health",
        server_log,
        env={"SERVE_TOKEN": TOKEN, "TMPDIR": str(home)},  # its model downloads stay in tmp_path
        while_starting=lambda: sm.register(tracking_uri, home / "artifacts"),  # v1, champion
        cwd=(home / "cwd").resolve(),
    ) as process:
        yield Endpoint(url, tracking_uri, home / "artifacts", log_dir, server_log, process.pid)


def test_health_version_and_answers_equal_pyfunc(endpoint: Endpoint) -> None:
    health = endpoint.health()
    assert health["status"] == "ok" and health["reason"] is None
    version = httpx.get(f"{endpoint.url}/version", headers=AUTH).json()
    assert {k: version[k] for k in ("name", "version", "alias")} == {
        "name": sm.MODEL_NAME,
        "version": "1",
        "alias": "champion",
    }
    assert version["run_id"] and version["loaded_at"].endswith("+00:00")

    answer = endpoint.predict({"rows": ROWS})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == "1" and answer.headers["x-request-id"] == body["request_id"]
    assert close(body["predictions"], pyfunc_predictions(endpoint.tracking_uri, "1", ROWS))
    bare = endpoint.predict(ROWS[:3])  # a bare list of rows works too
    assert bare.json()["predictions"] == body["predictions"][:3]
    optional_absent = endpoint.predict([{"distance": 500, "sched_hour": 20}])
    assert optional_absent.status_code == 200 and len(optional_absent.json()["predictions"]) == 1


def raw(
    body: bytes, content_type: str = "application/json", headers: dict[str, str] = AUTH
) -> dict[str, Any]:
    return {"content": body, "headers": {**headers, "Content-Type": content_type}}


def bad(**changes: Any) -> list[dict[str, Any]]:
    return [ROWS[0], {**ROWS[1], **changes}]


BAD_REQUESTS = [
    (
        "missing field",
        {"json": {"rows": [ROWS[0], {"sched_hour": 5}]}},
        422,
        "row 1, field 'distance': required but missing",
    ),
    ("extra field", {"json": {"rows": bad(colour="red")}}, 422, "row 1, field 'colour': unknown field"),
    (
        "wrong type",
        {"json": {"rows": bad(sched_hour="five")}},
        422,
        "row 1, field 'sched_hour': expected an integer",
    ),
    (
        "null required",
        {"json": {"rows": bad(distance=None)}},
        422,
        "row 1, field 'distance': required but null",
    ),
    (
        "NaN",
        raw(b'{"rows": [{"distance": 100, "sched_hour": 5, "wx_visib": NaN}]}'),
        422,
        "row 0, field 'wx_visib': nan is not a finite number",
    ),
    (
        "Infinity",
        raw(b'[{"distance": Infinity, "sched_hour": 5}]'),
        422,
        "row 0, field 'distance': inf is not a finite",
    ),
    ("empty body", raw(b""), 400, "empty body"),
    ("non-JSON", raw(b"distance=100&sched_hour=5"), 400, "the body is not valid JSON"),
    ("truncated JSON", raw(b'{"rows": [{"distance": 1'), 400, "the body is not valid JSON"),
    (
        "wrong content type",
        raw(json.dumps({"rows": ROWS}).encode(), "text/csv"),
        415,
        "content type 'text/csv'",
    ),
    (
        "rows not objects",
        {"json": {"rows": [[100, 5, 1.0, "AA"]]}},
        422,
        "row 0: is list, expected an object",
    ),
    ("rows not a list", {"json": {"rows": "all of them"}}, 422, "'rows' is str, expected a list"),
    ("empty batch", {"json": {"rows": []}}, 422, "'rows' is empty"),
    ("unknown body key", {"json": {"rows": ROWS, "version": "2"}}, 422, "unknown key 'version' in the body"),
    (
        "huge batch",
        {"json": {"rows": ROWS[:1] * 10_001}},
        413,
        "batch of 10001 rows is larger than the limit of 10000",
    ),
    ("no token", raw(b"[]", headers={}), 401, "missing or wrong bearer token"),
    (
        "wrong token",
        raw(b"[]", headers={"Authorization": "Bearer nope"}),
        401,
        "missing or wrong bearer token",
    ),
]


def test_bad_requests_get_a_4xx_naming_the_problem_and_the_server_stays_healthy(endpoint: Endpoint) -> None:
    with httpx.Client(base_url=endpoint.url, timeout=30) as client:
        for kind, kwargs, status, expected in BAD_REQUESTS:
            kwargs = {"headers": AUTH, **kwargs}
            response = client.post("/predict", **kwargs)
            assert response.status_code == status, (kind, response.text)
            assert expected in response.json()["detail"], (kind, response.json())
        assert client.get("/version").status_code == 401  # /version needs the token too
        assert client.get("/predict", headers=AUTH).status_code == 405
    health = endpoint.health()
    assert health["status"] == "ok" and health["rejected"] >= len(BAD_REQUESTS)
    assert endpoint.predict({"rows": ROWS[:2]}).status_code == 200


def test_hot_swap_under_load_fails_no_request(endpoint: Endpoint) -> None:
    v2 = sm.register(endpoint.tracking_uri, endpoint.artifacts, flip=True, alias=None)
    expected = {v: pyfunc_predictions(endpoint.tracking_uri, v, ROWS[:4]) for v in ("1", v2)}
    assert not close(expected["1"], expected[v2])
    stop = threading.Event()
    seen: list[list[tuple[int, str | None, Any]]] = [[] for _ in range(8)]

    def client_loop(mine: list[tuple[int, str | None, Any]]) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                try:
                    response = endpoint.predict({"rows": ROWS[:4]}, client=client)
                except httpx.HTTPError as exc:  # a refused or dropped connection counts as a failure
                    mine.append((0, None, repr(exc)))
                    continue
                body = response.json()
                mine.append((response.status_code, body.get("model_version"), body.get("predictions")))

    threads = [threading.Thread(target=client_loop, args=(s,)) for s in seen]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        MlflowClient(tracking_uri=endpoint.tracking_uri).set_registered_model_alias(
            sm.MODEL_NAME, "champion", v2
        )
        deadline = time.monotonic() + 30
        while endpoint.version() != v2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)

    answers = [a for mine in seen for a in mine]
    failed = [a for a in answers if a[0] != 200]
    assert not failed, failed[:3]
    assert endpoint.version() == v2
    by_version = {v: [p for _, version, p in answers if version == v] for v in ("1", v2)}
    assert len(by_version["1"]) > 10 and len(by_version[v2]) > 10, {v: len(p) for v, p in by_version.items()}
    for version, predictions in by_version.items():
        assert all(close(p, expected[version]) for p in predictions), version
    for mine in seen:  # once a client got v2, it never got v1 again
        versions = [version for _, version, _ in mine]
        assert versions == sorted(versions, key=lambda v: v == v2)


def test_a_version_that_fails_to_load_keeps_the_old_model_and_reports_degraded(endpoint: Endpoint) -> None:
    client = MlflowClient(tracking_uri=endpoint.tracking_uri)
    broken = sm.register(endpoint.tracking_uri, endpoint.artifacts, alias=None)
    source = client.get_model_version_download_uri(sm.MODEL_NAME, broken)
    shutil.rmtree(urlparse(source).path)  # the version's files are gone
    client.set_registered_model_alias(sm.MODEL_NAME, "champion", broken)
    deadline = time.monotonic() + 20
    while endpoint.health()["status"] != "degraded" and time.monotonic() < deadline:
        time.sleep(0.1)
    health = endpoint.health()
    assert health["status"] == "degraded"
    assert f"version {broken} failed to load, still serving version 2" in health["reason"]
    answer = endpoint.predict({"rows": ROWS[:2]})
    assert answer.status_code == 200 and answer.json()["model_version"] == "2"

    client.set_registered_model_alias(sm.MODEL_NAME, "champion", "2")  # a rollback clears it
    deadline = time.monotonic() + 20
    while endpoint.health()["status"] != "ok" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert endpoint.health()["status"] == "ok"


def test_prediction_log_holds_exactly_the_acknowledged_requests(endpoint: Endpoint) -> None:
    days = sorted(p.name.removeprefix("date=") for p in endpoint.log_dir.glob("date=*"))
    frame = pd.concat([read_prediction_log(endpoint.log_dir, day) for day in days])
    assert set(frame["request_id"]) == endpoint.acknowledged
    per_request = frame.groupby("request_id").size()
    assert len(per_request) == len(endpoint.acknowledged) > 20
    first = frame[frame["model_version"] == "1"].iloc[0]
    assert {"distance", "sched_hour", "wx_visib", "carrier", "prediction"} <= set(frame.columns)
    assert len(first["prediction"]) == 2
    assert TOKEN not in endpoint.server_log.read_text()
    assert not list((endpoint.log_dir.parent / "cwd").iterdir())  # no default ./mlflow.db, ./mlruns
    for path in endpoint.log_dir.rglob("*.jsonl"):
        assert TOKEN not in path.read_text()


def test_no_alias_is_unavailable_with_the_reason(endpoint: Endpoint, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    holder = ModelHolder(endpoint.tracking_uri, "no_such_model")
    assert holder.refresh() is False
    health = holder.health()
    assert health["status"] == "unavailable" and health["model"] is None
    assert "cannot read alias 'champion' of 'no_such_model'" in health["reason"]

    with TestClient(create_app(holder, PredictionLog(tmp_path))) as client:  # the app, in process
        assert client.get("/health").status_code == 503
        refused = client.post("/predict", json={"rows": ROWS[:1]})
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("no model loaded: cannot read alias 'champion'")
        assert client.get("/version").status_code == 503
    assert not list(tmp_path.iterdir())  # nothing answered, nothing logged
    holder.stop()


def test_a_crash_under_load_loses_no_acknowledged_request(endpoint: Endpoint) -> None:
    """Last: SIGKILL the server while 8 clients send; every request answered 200 is in the log."""
    stop, before = threading.Event(), set(endpoint.acknowledged)

    def client_loop() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    endpoint.predict({"rows": ROWS[:4]}, client=client)
                except httpx.HTTPError:
                    return  # the server is gone

    threads = [threading.Thread(target=client_loop) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(endpoint.acknowledged - before) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(endpoint.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    acknowledged_under_load = endpoint.acknowledged - before
    assert len(acknowledged_under_load) >= 20
    days = sorted(p.name.removeprefix("date=") for p in endpoint.log_dir.glob("date=*"))
    logged = set(pd.concat([read_prediction_log(endpoint.log_dir, day) for day in days])["request_id"])
    assert endpoint.acknowledged <= logged
