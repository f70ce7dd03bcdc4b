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
from typing import Any

from ml_platform.deploys import history as hist
from ml_platform.deploys.lock import DeployLock
from ml_platform.deploys.outcome import (
    AliasConflict,
    DeployOutcome,
    DeployRequest,
    Recheck,
    Smoke,
    SmokeFailed,
)
from ml_platform.deploys.steps import LIVE_NOTE, DeploySteps
from ml_platform.faults import fault_point


class Deployer(DeploySteps):
    """Drives a deploy under the model's lock: resume a left intent, then a fresh deploy or rollback,
    or, when the target is champion already, verify it and repair what is missing."""

    def _lock(self, note: str) -> Any:
        url = self.registry.deploy_lock_url()
        if url is None:
            self.log("no SQL database for the deploy lock (set MlflowRegistry.lock_url): not serialized")
            return contextlib.nullcontext("")
        return DeployLock(url).hold(self.model, note)

    def _new_intent(
        self, req: DeployRequest, kind: str, before: str | None, previous: str | None, reason: str
    ) -> dict[str, Any]:
        """What a deploy records before it moves anything (``from``: the champion it replaces)."""
        return {
            "id": uuid.uuid4().hex,
            "seq": hist.next_seq(self.registry, self.model),
            "kind": kind,
            "target": req.target,
            "from": before,
            "previous_before": previous,
            "reason": reason,
            "by": req.by,
            "run_id": req.run_id,
            "at": hist.now_iso(),
            "gate": [],
        }

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
        intent = self._new_intent(req, req.kind, champion, previous, req.reason)
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
        intent = self._new_intent(req, "repair", expected, previous, "repair: " + "; ".join(fixes))
        self.log(intent["reason"])
        hist.write_intent(self.registry, self.model, intent)
        return self._complete(intent)


__all__ = [
    "LIVE_NOTE",
    "AliasConflict",
    "DeployOutcome",
    "DeployRequest",
    "Deployer",
    "Recheck",
    "Smoke",
    "SmokeFailed",
]
