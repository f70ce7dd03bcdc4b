"""The served model: follows ``models:/<name>@<alias>`` and swaps in new versions only when loaded.

A background thread asks the registry which version the alias points at every ``poll_seconds``.
When it moves (a deploy or a rollback), the new version is downloaded, loaded, its signature read
and its input example predicted; only then is the one reference requests read replaced. A request
takes that reference once, so it is served start to end by one fully loaded model. A failed load
keeps the old model and leaves the reason for ``/health``; that version is retried with backoff
(a registry or artifact store hiccup heals itself, a broken version does not hammer them).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_platform.integrations.mlflow_model import load_pyfunc_checked
from ml_platform.serving.schema import Field, fields_from_signature

log = logging.getLogger(__name__)
MAX_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to predict, and where it came from."""

    name: str
    version: str
    alias: str
    run_id: str | None
    loaded_at: dt.datetime
    model: Any = field(repr=False)
    fields: list[Field] = field(repr=False)
    classes: list[str] | None = None  # multiclass: the names of the probability columns, in order

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "run_id": self.run_id,
            "loaded_at": self.loaded_at.isoformat(),
            **({"classes": self.classes} if self.classes else {}),
        }


def model_classes(model: Any) -> list[str] | None:
    """The class names a multiclass model's MLmodel file records (``metadata.classes``), else None."""
    extra = getattr(getattr(model, "metadata", None), "metadata", None) or {}
    classes = extra.get("classes")
    return [str(c) for c in classes] if classes else None


class ModelHolder:
    """Holds the model behind ``models:/<name>@<alias>``; ``current`` is always fully loaded."""

    def __init__(
        self, tracking_uri: str, name: str, alias: str = "champion", poll_seconds: float = 5.0
    ) -> None:
        self.tracking_uri = tracking_uri
        self.name = name
        self.alias = alias
        self.poll_seconds = poll_seconds
        self.current: LoadedModel | None = None
        self.error: str | None = None  # why the alias's version is not the one served
        self.last_poll: dt.datetime | None = None
        self._failed_version: str | None = None
        self._attempts = 0
        self._retry_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._work = Path(tempfile.mkdtemp(prefix="mlp-serving-"))

    # -- registry -------------------------------------------------------------------------------
    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _load(self, version: Any) -> LoadedModel:
        import mlflow

        number = str(version.version)
        target = self._work / f"v{number}"
        shutil.rmtree(target, ignore_errors=True)
        # the version's own artifact location, not models:/…: MLflow resolves models:/ URIs with
        # the process-wide registry URI, ignoring the one passed (3.17: ModelsArtifactRepository)
        location = self._client().get_model_version_download_uri(self.name, number)
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=location, tracking_uri=self.tracking_uri, dst_path=str(target)
        )
        model = load_pyfunc_checked(mlflow, local)
        fields = fields_from_signature(model.metadata.signature)
        example = model.input_example
        if example is not None:  # a model that cannot score its own example is not served
            model.predict(example)
        return LoadedModel(
            name=self.name,
            version=number,
            alias=self.alias,
            run_id=version.run_id,
            loaded_at=dt.datetime.now(dt.UTC),
            model=model,
            fields=fields,
            classes=model_classes(model),
        )

    def refresh(self) -> bool:
        """One poll: load and swap in the alias's version if it changed. True if it swapped."""
        self.last_poll = dt.datetime.now(dt.UTC)
        try:
            version = self._client().get_model_version_by_alias(self.name, self.alias)
        except Exception as exc:  # registry down or alias missing: keep serving what we have
            self.error = f"cannot read alias {self.alias!r} of {self.name!r}: {str(exc)[:300]}"
            return False
        number = str(version.version)
        current = self.current
        if current is not None and current.version == number:
            self.error = None
            return False
        if number == self._failed_version and time.monotonic() < self._retry_at:
            return False  # a version that failed is retried with backoff, not every poll
        try:
            loaded = self._load(version)
        except Exception as exc:
            self._attempts = self._attempts + 1 if number == self._failed_version else 1
            self._failed_version = number
            self._retry_at = time.monotonic() + min(self.poll_seconds * 2**self._attempts, MAX_RETRY_SECONDS)
            self.error = (
                f"version {number} failed to load, still serving "
                + (f"version {current.version}" if current else "nothing")
                + f": {type(exc).__name__}: {str(exc)[:300]}"
            )
            log.error("serving: %s", self.error)
            return False
        self.current = loaded  # the swap: one reference assignment, atomic
        self._failed_version = None
        self.error = None
        log.info("serving: %s@%s is now version %s", self.name, self.alias, number)
        if current is not None:
            shutil.rmtree(self._work / f"v{current.version}", ignore_errors=True)
        return True

    # -- background thread ----------------------------------------------------------------------
    def start(self) -> None:
        """Load the alias's version now (so a healthy start serves at once), then follow it."""
        self.refresh()
        self._thread = threading.Thread(target=self._follow, name="model-holder", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as exc:  # the follower never dies: it reports and polls again
                self.error = f"polling failed: {type(exc).__name__}: {str(exc)[:300]}"
                log.exception("serving: polling the registry failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        shutil.rmtree(self._work, ignore_errors=True)

    def health(self) -> dict[str, Any]:
        """``ok`` (serving the alias's version), ``degraded`` (serving an older one, or the registry
        unreadable, with the reason) or ``unavailable`` (nothing loaded)."""
        current = self.current
        status = "unavailable" if current is None else ("degraded" if self.error else "ok")
        return {
            "status": status,
            "model": current.describe() if current else None,
            "reason": self.error,
            "last_poll": self.last_poll.isoformat() if self.last_poll else None,
        }
