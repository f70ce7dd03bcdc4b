"""Deploy as a resumable, idempotent state machine (no Dagster in here).

Under the model's deploy lock: finish (or roll back) any intent a killed deploy left, then

1. record the intent (target, previous champion, history sequence number) on the registered model;
2. export the candidate (staging directory + rename) and smoke-test the exported copy and
   ``models:/<name>/<version>`` — all before any alias moves;
3. move ``previous_champion``, then ``champion`` (compare-and-set: only from the recorded previous
   champion), then ``CURRENT`` of the export;
4. tag the versions, append the history entry, clear the intent.

A process killed anywhere leaves the intent; the next deploy (a rerun, a run retry, the next
sensor-launched deploy or a rollback) resumes it, so ``champion`` is always either the old version
or a fully verified new one. A smoke failure leaves (or puts back) the old champion."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_platform.deploys import history as hist
from ml_platform.deploys.lock import DeployLock
from ml_platform.faults import fault_point
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.export import LocalExportTarget

#: champion version at deploy time → (passes, reasons)
Recheck = Callable[[str | None], tuple[bool, list[str]]]
#: a loaded pyfunc model → a short description of what passed; raises if it fails
Smoke = Callable[[Any], str]


LIVE_NOTE = "**Champion since**"  # first line of a live version's description


class AliasConflict(RuntimeError):
    """``champion`` was moved by something that did not take the deploy lock."""


class SmokeFailed(RuntimeError):
    def __init__(self, message: str, outcome: DeployOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass
class DeployRequest:
    target: str
    kind: str = "deploy"  # deploy | rollback
    reason: str = ""
    by: str = ""
    run_id: str = ""


@dataclass
class DeployOutcome:
    status: str  # deployed | rolled_back | repaired | already_champion | refused | smoke_failed
    target: str
    champion: str | None
    previous: str | None
    export_path: str | None
    notes: list[str] = field(default_factory=list)
    entry: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)


def _version(mv: Any) -> str | None:
    return None if mv is None else str(mv.version)


class Deployer:
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

    def _lock(self, note: str) -> Any:
        url = self.registry.deploy_lock_url()
        if url is None:
            self.log("no SQL database for the deploy lock (set MlflowRegistry.lock_url): not serialized")
            return contextlib.nullcontext("")
        return DeployLock(url).hold(self.model, note)

    # -- entry point ---------------------------------------------------------------------------
    def run(self, req: DeployRequest, recheck: Recheck | None = None) -> DeployOutcome:
        with self._lock(f"{req.kind} v{req.target} by {req.by}") as took_over:
            notes = [took_over] if took_over else []
            removed = self.export.clean_staging(self.model)
            if removed:
                notes.append(f"removed leftovers of a killed export: {', '.join(removed)}")
            intent = hist.read_intent(self.registry, self.model)
            if intent is not None:
                resumed = self._resume(intent, notes)
                if resumed is not None and intent["target"] == req.target and intent["kind"] == req.kind:
                    resumed.notes = notes
                    return resumed
            outcome = self._fresh(req, recheck)
            outcome.notes = notes + outcome.notes
            return outcome

    def _resume(self, intent: dict[str, Any], notes: list[str]) -> DeployOutcome | None:
        champion = self.alias("champion")
        what = f"{intent['kind']} of v{intent['target']} (intent {intent['id'][:8]}, {intent['at']})"
        if champion not in (intent.get("from"), intent["target"]):
            hist.clear_intent(self.registry, self.model)
            notes.append(f"dropped the unfinished {what}: champion is now v{champion}, moved outside deploys")
            return None
        self.log(f"resuming the unfinished {what}")
        notes.append(f"resumed the unfinished {what}")
        return self._complete(intent)

    def _fresh(self, req: DeployRequest, recheck: Recheck | None) -> DeployOutcome:
        champion, previous = self.alias("champion"), self.alias("previous_champion")
        if champion == req.target:
            return self._verify_live(req)
        if req.kind == "rollback" and not hist.was_champion(self.registry, self.model, req.target):
            raise ValueError(
                f"{self.model} v{req.target} was never champion: a rollback only returns to a live version"
            )
        intent: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "seq": hist.next_seq(self.registry, self.model),
            "kind": req.kind,
            "target": req.target,
            "from": champion,
            "previous_before": previous,
            "reason": req.reason,
            "by": req.by,
            "run_id": req.run_id,
            "at": hist.now_iso(),
            "gate": [],
        }
        smoked = self._export_and_smoke(intent)  # before anything is recorded or moved
        if req.kind == "deploy" and recheck is not None:
            ok, intent["gate"] = recheck(champion)
            if not ok:
                why = f"re-checked against champion v{champion} at deploy time: " + "; ".join(intent["gate"])
                self.registry.tag_version(
                    self.model,
                    req.target,
                    {"validation_status": "superseded", "superseded_reason": why[:4000]},
                )
                self.export.remove(self.model, req.target)
                return DeployOutcome(
                    "refused",
                    req.target,
                    champion,
                    previous,
                    self._live_export(champion),
                    reasons=intent["gate"],
                    notes=[f"v{req.target} not deployed: it does not beat the champion live now"],
                )
        hist.write_intent(self.registry, self.model, intent)
        fault_point("deploy:after_intent")
        return self._complete(intent, smoked)

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

    # -- already champion: verify and repair ---------------------------------------------------
    def _expected_previous(self, target: str) -> str | None:
        move = hist.last_move_to(hist.history(self.registry, self.model), target)
        if move is not None:
            return move.get("from")
        # no recorded move (a deploy from before the history): the latest other deployed version
        client = self.registry.client()
        others = [
            (mv.tags.get("deployed_at", ""), str(mv.version))
            for mv in client.search_model_versions(f"name = '{self.model}'")
            if str(mv.version) != target and mv.tags.get("deployed_at")
        ]
        return max(others)[1] if others else self.alias("previous_champion")

    def _verify_live(self, req: DeployRequest) -> DeployOutcome:
        target = req.target
        previous = self.alias("previous_champion")
        expected = self._expected_previous(target)
        fixes = []
        if expected and previous != expected:
            fixes.append(f"previous_champion is {previous and 'v' + previous}, expected v{expected}")
        if self.export.exported(self.model, target) is None:
            fixes.append(f"export of v{target} missing")
        if self.export.current(self.model) != f"v{target}":
            fixes.append(f"CURRENT is {self.export.current(self.model)}, expected v{target}")
        if self.registry.model_version(self.model, target).tags.get("validation_status") != "deployed":
            fixes.append(f"v{target} not tagged deployed")
        if hist.last_move_to(hist.history(self.registry, self.model), target) is None:
            fixes.append(f"history lacks the move to v{target}")
        if not fixes:
            return DeployOutcome(
                "already_champion",
                target,
                target,
                previous,
                self._live_export(target),
                notes=[f"v{target} is champion and verified: nothing to do"],
            )
        intent: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "seq": hist.next_seq(self.registry, self.model),
            "kind": "repair",
            "target": target,
            "from": expected,
            "previous_before": previous,
            "reason": "repair: " + "; ".join(fixes),
            "by": req.by,
            "run_id": req.run_id,
            "at": hist.now_iso(),
            "gate": [],
        }
        self.log(intent["reason"])
        hist.write_intent(self.registry, self.model, intent)
        return self._complete(intent)

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
