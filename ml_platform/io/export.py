"""Where a deployed model is exported: a directory per version plus an atomic CURRENT pointer."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import dagster as dg

from ml_platform.faults import fault_point
from ml_platform.integrations.mlflow import MlflowRegistry


class LocalExportTarget(dg.ConfigurableResource):
    """Exports ``models:/<name>/<version>`` to ``<path>/<name>/v<version>`` and points
    ``<path>/<name>/CURRENT`` at it (temp + rename, so readers never see half a model)."""

    path: str

    def stage(self, registry: MlflowRegistry, model: str, version: str) -> str:
        """``<path>/<name>/v<version>``, downloaded into a staging directory and renamed into place
        (so it is complete when it exists); CURRENT is not touched."""
        root = Path(self.path) / model
        root.mkdir(parents=True, exist_ok=True)
        final = root / f"v{version}"
        if not (final / "MLmodel").exists():
            shutil.rmtree(final, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=root))
            registry.download(f"models:/{model}/{version}", str(staging))
            fault_point("deploy:export_staged")
            staging.rename(final)
        return str(final)

    def export(self, registry: MlflowRegistry, model: str, version: str) -> str:
        final = self.stage(registry, model, version)
        self.point_current(model, version)
        return final

    def clean_staging(self, model: str) -> list[str]:
        """Remove staging directories and pointer temp files a killed deploy left behind (call only
        while holding the model's deploy lock). Returns what was removed."""
        root = Path(self.path) / model
        if not root.exists():
            return []
        removed = []
        for leftover in [*root.glob(".v*-*"), *root.glob(".CURRENT.*")]:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover.name)
        return removed

    def point_current(self, model: str, version: str) -> None:
        root = Path(self.path) / model
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(f"v{version}\n")
        tmp.replace(root / "CURRENT")

    def clear_current(self, model: str) -> None:
        (Path(self.path) / model / "CURRENT").unlink(missing_ok=True)

    def current(self, model: str) -> str | None:
        pointer = Path(self.path) / model / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def exported(self, model: str, version: str) -> str | None:
        """The complete export of ``version`` (``None`` if absent)."""
        final = Path(self.path) / model / f"v{version}"
        return str(final) if (final / "MLmodel").exists() else None

    def remove(self, model: str, version: str) -> None:
        shutil.rmtree(Path(self.path) / model / f"v{version}", ignore_errors=True)
