"""The forward path of a deploy, every step idempotent so a killed deploy resumes from its intent:
export and smoke-test the candidate, move the aliases (compare-and-set on ``champion``), point
``CURRENT``, tag the versions, record the history entry and clear the intent; or, when export or
smoke fails, put the old champion back (:meth:`DeploySteps._abort`). Each ``fault_point`` is a
place a test kills the process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_platform.deploys import history as hist
from ml_platform.deploys.outcome import AliasConflict, DeployOutcome, Smoke, SmokeFailed
from ml_platform.faults import fault_point
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.export import LocalExportTarget

LIVE_NOTE = "**Champion since**"  # first line of a live version's description


def _version(mv: Any) -> str | None:
    return None if mv is None else str(mv.version)


class DeploySteps:
    """The steps of one model's deploy, on its registry and export target (:class:`~ml_platform.
    deploys.flow.Deployer` drives them under the deploy lock)."""

    def __init__(
        self,
        registry: MlflowRegistry,
        export: LocalExportTarget,
        model: str,
        smoke: Smoke,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.registry, self.export, self.model, self.smoke, self.log = registry, export, model, smoke, log

    # -- reading the registry ------------------------------------------------------------------
    def alias(self, alias: str) -> str | None:
        return _version(self.registry.version_by_alias(self.model, alias))

    def _live_export(self, version: str | None) -> str | None:
        return self.export.exported(self.model, version) if version else None

    # -- the forward path (idempotent) ---------------------------------------------------------
    def _smoke_both(self, path: str, version: str) -> str:
        exported = self.registry.load_pyfunc(_model_dir(path))
        first = self.smoke(exported)
        self.smoke(self.registry.load_pyfunc(f"models:/{self.model}/{version}"))
        return f"{first} (exported copy and models:/{self.model}/{version})"

    def _export_and_smoke(self, intent: dict[str, Any]) -> tuple[str, str]:
        """(export path, smoke description); on any failure the deploy aborts (:meth:`_abort`)."""
        target = intent["target"]
        try:
            path = self.export.stage(self.registry, self.model, target)
            fault_point("deploy:after_export")
            return path, self._smoke_both(path, target)
        except Exception as exc:  # noqa: BLE001 - any failure to export, load or score aborts
            self._abort(intent, exc)
            raise  # unreachable: _abort raises

    def _complete(self, intent: dict[str, Any], smoked: tuple[str, str] | None = None) -> DeployOutcome:
        target, before = intent["target"], intent.get("from")
        path, smoke = smoked or self._export_and_smoke(intent)
        fault_point("deploy:after_smoke")
        if before and before != target and self.alias("previous_champion") != before:
            self.registry.set_alias(self.model, "previous_champion", before)
        fault_point("deploy:after_previous")
        current = self.alias("champion")
        if current not in (before, target):
            raise AliasConflict(
                f"champion of {self.model} is v{current}, expected v{before} or v{target}: moved by "
                "something that did not take the deploy lock; nothing changed by this deploy"
            )
        if current != target:
            self.registry.set_alias(self.model, "champion", target)
        fault_point("deploy:after_alias")
        self.export.point_current(self.model, target)
        at = hist.now_iso()
        tags = {
            "validation_status": "deployed",
            "deployed_at": at,
            "deployed_by_run": intent.get("run_id") or "",
            "deployed_by": intent.get("by") or "",
            "champion_from": before or "none",
            "champion_event": intent["kind"],
        }
        back_link = self.registry.dagster_run_url(intent["run_id"]) if intent.get("run_id") else None
        if back_link:
            tags["deployed_by_run_url"] = back_link
        self.registry.tag_version(self.model, target, tags)
        if back_link:
            self._note_on_version(target, at, intent, back_link)
        if before and before != target:
            self.registry.tag_version(self.model, before, {"champion_until": at, "champion_to": target})
        fault_point("deploy:after_tags")
        entry = {
            **{k: intent.get(k) for k in ("seq", "from", "reason", "by", "run_id")},
            "event": intent["kind"],
            "to": target,
            "at": at,
            "evidence": {"smoke": smoke, "export_path": path, "gate": intent.get("gate") or []},
        }
        hist.record(self.registry, self.model, entry)
        fault_point("deploy:after_history")
        hist.clear_intent(self.registry, self.model)
        status = {"deploy": "deployed", "rollback": "rolled_back", "repair": "repaired"}[intent["kind"]]
        return DeployOutcome(
            status,
            target,
            target,
            self.alias("previous_champion"),
            path,
            entry=entry,
            reasons=intent.get("gate") or [],
        )

    def _abort(self, intent: dict[str, Any], exc: Exception) -> None:
        """The candidate failed export or smoke test: the old champion stays (or is put back)."""
        target, before, prev_before = intent["target"], intent.get("from"), intent.get("previous_before")
        champion = self.alias("champion")
        if champion == target:
            if before:
                self.registry.set_alias(self.model, "champion", before)
            else:
                self.registry.delete_alias(self.model, "champion")
        if self.alias("previous_champion") != prev_before:
            if prev_before:
                self.registry.set_alias(self.model, "previous_champion", prev_before)
            else:
                self.registry.delete_alias(self.model, "previous_champion")
        if before and before != target:
            self.export.point_current(self.model, before)
        elif self.export.current(self.model) == f"v{target}":
            self.export.clear_current(self.model)
        self.export.remove(self.model, target)
        error = f"{type(exc).__name__}: {exc}"[:1000]
        self.registry.tag_version(
            self.model, target, {"validation_status": "smoke_failed", "smoke_error": error}
        )
        live = before if before != target else None
        entry = {
            **{k: intent.get(k) for k in ("seq", "reason", "by", "run_id")},
            "event": "smoke_failed",
            "from": champion,
            "to": live,
            "target": target,
            "at": hist.now_iso(),
            "evidence": {"error": error},
        }
        hist.record(self.registry, self.model, entry)
        hist.clear_intent(self.registry, self.model)
        outcome = DeployOutcome(
            "smoke_failed", target, live, prev_before, self._live_export(live), entry=entry
        )
        raise SmokeFailed(
            f"deploying {self.model} v{target} failed its smoke test; champion: "
            f"{'v' + live if live else 'none'}: {error}",
            outcome,
        ) from exc

    def _note_on_version(self, version: str, at: str, intent: dict[str, Any], link: str) -> None:
        """A clickable first line on the version's description (MLflow renders it as Markdown):
        when it went live and the Dagster run that did it; a rerun replaces its own line."""
        described = self.registry.model_version(self.model, version).description or ""
        body = "\n".join(line for line in described.splitlines() if not line.startswith(LIVE_NOTE))
        reason = f": {intent['reason']}" if intent.get("reason") else ""
        note = (
            f"{LIVE_NOTE} {at}, {intent['kind']} by [Dagster run {str(intent['run_id'])[:8]}]({link}){reason}"
        )
        self.registry.describe_version(self.model, version, f"{note}\n\n{body.lstrip()}".rstrip() + "\n")


def _model_dir(path: str) -> str:
    """The directory holding ``MLmodel`` in an export (the download may nest one level)."""
    root = Path(path)
    if (root / "MLmodel").exists():
        return str(root)
    nested = sorted(p.parent for p in root.glob("*/MLmodel"))
    return str(nested[0]) if nested else str(root)
