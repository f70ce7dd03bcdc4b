"""A small local JSON API over a landing directory (the layout ``HttpSource`` reads), on 127.0.0.1.

Used by ``ml-platform replay --to http`` and by the tests as a real HTTP server.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform.sources.landing_dir import LandingDirSource
from ml_platform.sources.retry import PermanentSourceError

DATES = ("year", "month", "day")


class LandingApiHandler(BaseHTTPRequestHandler):
    """Routes: ``/{table}/days``, ``/{table}/days/{day}?page=&page_size=``, ``/{table}?page=``."""

    server: LandingApiServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests.append(self.path)
        if self.server.token and self.headers.get("Authorization") != f"Bearer {self.server.token}":
            return self._send(401, {"error": "missing or wrong bearer token"})
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if len(parts) == 2 and parts[1] == "days":
                return self._send(200, {"days": self.server.landing.list_deliveries(parts[0], DATES)})
            if len(parts) == 3 and parts[1] == "days":
                day = dt.date.fromisoformat(parts[2])
                frame = self.server.landing._fetch_day(parts[0], day, DATES)
            elif len(parts) == 1:
                frame = self.server.landing._fetch_static(parts[0])
            else:
                return self._send(404, {"error": f"no route {url.path}"})
        except (PermanentSourceError, ValueError) as exc:
            return self._send(404, {"error": str(exc)})
        page, size = int(query.get("page", 1)), int(query.get("page_size", 1000))
        chunk = frame.drop(columns=[SOURCE_COLUMN], errors="ignore").iloc[(page - 1) * size : page * size]
        more = page * size < len(frame)
        records = json.loads(chunk.to_json(orient="records", date_format="iso"))
        return self._send(200, {"records": records, "page": page, "next_page": page + 1 if more else None})


class LandingApiServer(ThreadingHTTPServer):
    """``with LandingApiServer(path) as api: api.url`` serves ``path`` until the block ends."""

    daemon_threads = True

    def __init__(
        self,
        landing: Path | str,
        *,
        port: int = 0,
        token: str | None = None,
        handler: type[BaseHTTPRequestHandler] = LandingApiHandler,
        verbose: bool = False,
    ) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.landing = LandingDirSource(path=str(landing), max_retries=0, quiet_seconds=0)  # renamed in place
        self.token = token
        self.verbose = verbose
        self.requests: list[str] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LandingApiServer:
        self._thread = threading.Thread(target=self.serve_forever, name="landing-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> LandingApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
