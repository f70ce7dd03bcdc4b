"""HTTP API source: JSON records per table and day, paginated, optional bearer token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr

from ml_platform.sources.base import SOURCE_COLUMN, DaySource, SourceOptions, register_source, retry_fields
from ml_platform.sources.retry import PermanentSourceError, SourceError, TransientSourceError

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


class HttpOptions(SourceOptions):
    base_url: str
    token_env: str | None = None  # env var holding the bearer token (resolved by Dagster)
    page_size: int | None = None
    connect_timeout_seconds: float | None = None
    read_timeout_seconds: float | None = None


@register_source
class HttpSource(DaySource):
    """``GET {base_url}/{table}/days`` → ``{"days": {day: fingerprint}}``;
    ``GET {base_url}/{table}/days/{day}?page=N&page_size=M`` → ``{"records": [...], "next_page": N+1|null}``;
    ``GET {base_url}/{table}?page=N`` for unpartitioned tables. See docs/sources.md."""

    base_url: str
    token: str | None = Field(default=None, description="bearer token (give a dg.EnvVar)")
    page_size: int = 1000
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    max_pages: int = 10_000
    _session: Any = PrivateAttr(default=None)
    source_kind: ClassVar[str] = "http"
    Options: ClassVar[type[SourceOptions]] = HttpOptions

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> HttpSource:
        opts = cls.options(source)
        extra = {
            k: getattr(opts, k)
            for k in ("page_size", "connect_timeout_seconds", "read_timeout_seconds")
            if getattr(opts, k) is not None
        }
        token = dg.EnvVar(opts.token_env) if opts.token_env else None
        return cls(base_url=opts.base_url, token=token, **extra, **retry_fields(source.retry))

    def uri(self, table: str) -> str:
        return f"{self.base_url.rstrip('/')}/{table}"

    def _headers(self) -> dict[str, str]:
        token = self.token.get_value() if isinstance(self.token, dg.EnvVar) else self.token
        return {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}

    def _get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        import requests

        if self._session is None:
            self._session = requests.Session()
        response = self._session.get(
            url,
            params=params,
            headers=self._headers(),
            timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
        )
        if response.status_code >= 400:
            cause = {401: "authentication failed", 403: "access denied", 404: "not found"}.get(
                response.status_code, response.reason
            )
            kind = TransientSourceError if response.status_code in TRANSIENT_STATUS else PermanentSourceError
            raise kind(f"GET {response.url}: HTTP {response.status_code} ({cause}): {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise PermanentSourceError(f"GET {response.url}: response is not JSON: {exc}") from exc

    @staticmethod
    def _classify(exc: Exception) -> type[SourceError] | None:
        import requests

        if isinstance(exc, requests.Timeout | requests.ConnectionError | ConnectionError | TimeoutError):
            return TransientSourceError
        if isinstance(exc, requests.RequestException):
            return PermanentSourceError
        return None

    def _pages(self, url: str) -> pd.DataFrame:
        records: list[dict[str, Any]] = []
        page: Any = 1
        for _ in range(self.max_pages):
            body = self._get(url, {"page": page, "page_size": self.page_size})
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise PermanentSourceError(
                    f"GET {url} page {page}: expected {{'records': [...]}} in the body"
                )
            records.extend(body["records"])
            page = body.get("next_page")
            if page is None:
                break
        else:
            raise PermanentSourceError(f"GET {url}: more than {self.max_pages} pages")
        frame = pd.DataFrame.from_records(records)
        return frame.where(frame.notna(), np.nan) if len(frame) else frame

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
        url = f"{self.uri(table)}/days/{day.isoformat()}"
        frame = self._pages(url)
        frame[SOURCE_COLUMN] = url
        return frame

    def _fetch_static(self, table: str) -> pd.DataFrame:
        return self._pages(self.uri(table))

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        what = f"http source {self.uri(table)}, table '{table}', listing days"
        body = self._retrying(lambda: self._get(f"{self.uri(table)}/days"), what)
        days = body.get("days") if isinstance(body, dict) else None
        if not isinstance(days, dict):
            raise PermanentSourceError(f"{what}: expected {{'days': {{day: fingerprint}}}}")
        return {str(k): str(v) for k, v in days.items()}
