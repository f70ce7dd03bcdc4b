"""The FastAPI application: ``POST /predict``, ``GET /health``, ``GET /version``.

``/predict`` answers ``predictions``, one per row: a binary classifier's row is
``[p(negative), p(positive)]``, a regressor's a number; a multiclass model's row is one probability
per class, with ``classes`` naming them in order and ``predicted_classes`` the most probable class
of each row.

A request reads the holder's model reference once, so validation, prediction and the log line all
use one fully loaded version. Bad input is a 4xx whose ``detail`` names the row and field; the
prediction log line is on disk before the answer leaves. With a token, ``/predict`` and
``/version`` need ``Authorization: Bearer <token>``; ``/health`` stays open for probes.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import threading
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mlflow.exceptions import MlflowException
from starlette.concurrency import run_in_threadpool

from ml_platform.serving.holder import LoadedModel, ModelHolder
from ml_platform.serving.prediction_log import PredictionLog
from ml_platform.serving.schema import RequestError, validate_rows

log = logging.getLogger(__name__)
DEFAULT_MAX_ROWS = 10_000
BYTES_PER_ROW = 4096  # the body limit: max_rows rows of this size


def _jsonable(output: Any) -> list[Any]:
    """Model output as JSON lists: labels, probabilities per class, or records."""
    if hasattr(output, "to_dict") and hasattr(output, "columns"):
        return list(output.to_dict(orient="records"))
    if hasattr(output, "tolist"):
        return list(output.tolist())
    return list(output)


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answered = 0
        self.rejected = 0

    def add(self, answered: bool) -> None:
        with self._lock:
            if answered:
                self.answered += 1
            else:
                self.rejected += 1


def _authorized(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {declared} bytes is larger than the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> Any:
    if not body.strip():
        raise RequestError(400, 'empty body: send JSON {"rows": [{...}, ...]}')
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"the body is not valid JSON: {exc}") from None


def create_app(
    holder: ModelHolder,
    prediction_log: PredictionLog,
    token: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> FastAPI:
    """The endpoint over ``holder``'s model, logging answered requests to ``prediction_log``."""
    app = FastAPI(title="ml_platform model endpoint", docs_url=None, redoc_url=None, openapi_url=None)
    counters = _Counters()
    body_limit = max_rows * BYTES_PER_ROW
    unauthorized = JSONResponse(
        {"detail": "missing or wrong bearer token: send 'Authorization: Bearer <token>'"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )

    def score(loaded: LoadedModel, payload: Any, request_id: str, received_at: dt.datetime) -> dict[str, Any]:
        frame = validate_rows(payload, loaded.fields, max_rows)
        rows = payload["rows"] if isinstance(payload, dict) else payload
        try:
            predictions = _jsonable(loaded.model.predict(frame))
        except MlflowException as exc:  # MLflow's own schema enforcement: still the caller's rows
            raise RequestError(422, f"the model refused the rows: {exc.message[:500]}") from None
        prediction_log.append(
            {
                "request_id": request_id,
                "received_at": received_at,
                "model_name": loaded.name,
                "model_version": loaded.version,
                "rows": rows,
                "predictions": predictions,
            }
        )
        answer = {
            "request_id": request_id,
            "model_name": loaded.name,
            "model_version": loaded.version,
            "predictions": predictions,
        }
        if loaded.classes:  # multiclass: each prediction is one probability per class, in this order
            answer["classes"] = loaded.classes
            answer["predicted_classes"] = [
                loaded.classes[max(range(len(row)), key=row.__getitem__)] for row in predictions
            ]
        return answer

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        received_at = dt.datetime.now(dt.UTC)
        request_id = uuid.uuid4().hex
        if not _authorized(request, token):
            counters.add(False)
            return unauthorized
        try:
            content_type = request.headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() != "application/json":
                raise RequestError(415, f"content type {content_type or 'none'!r}: send application/json")
            payload = _parse(await _body(request, body_limit))
            loaded = holder.current
            if loaded is None:
                raise RequestError(503, f"no model loaded: {holder.error or 'still loading'}")
            answer = await run_in_threadpool(score, loaded, payload, request_id, received_at)
        except RequestError as exc:
            counters.add(False)
            log.info("serving: request %s refused (%s): %s", request_id, exc.status, exc.message)
            return JSONResponse({**exc.body(), "request_id": request_id}, status_code=exc.status)
        counters.add(True)
        return JSONResponse(answer, headers={"X-Request-ID": request_id})

    @app.get("/health")
    def health() -> JSONResponse:
        state = holder.health()
        state.update(answered=counters.answered, rejected=counters.rejected)
        return JSONResponse(state, status_code=503 if state["status"] == "unavailable" else 200)

    @app.get("/version")
    def version(request: Request) -> JSONResponse:
        if not _authorized(request, token):
            return unauthorized
        loaded = holder.current
        if loaded is None:
            return JSONResponse({"detail": f"no model loaded: {holder.error or 'still loading'}"}, 503)
        return JSONResponse(loaded.describe())

    return app
