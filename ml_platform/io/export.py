"""Where a deployed model is exported: a directory per version plus an atomic CURRENT pointer."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry


class LocalExportTarget(dg.ConfigurableResource):
    """Exports ``models:/<name>/<version>`` to ``<path>/<name>/v<version>`` and points
    ``<path>/<name>/CURRENT`` at it (temp + rename, so readers never see half a model)."""

    path: str

    def export(self, registry: MlflowRegistry, model: str, version: str) -> str:
        root = Path(self.path) / model
        root.mkdir(parents=True, exist_ok=True)
        final = root / f"v{version}"
        if not final.exists():
            staging = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=root))
            registry.download(f"models:/{model}/{version}", str(staging))
            staging.rename(final)
        self.point_current(model, version)
        return str(final)

    def point_current(self, model: str, version: str) -> None:
        root = Path(self.path) / model
        tmp = root / f".CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(f"v{version}\n")
        tmp.replace(root / "CURRENT")

    def clear_current(self, model: str) -> None:
        (Path(self.path) / model / "CURRENT").unlink(missing_ok=True)

    def current(self, model: str) -> str | None:
        pointer = Path(self.path) / model / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def remove(self, model: str, version: str) -> None:
        shutil.rmtree(Path(self.path) / model / f"v{version}", ignore_errors=True)
