"""The values a deploy takes and gives: the request, the outcome, the callbacks it is given
(the deploy-time gate re-check, the smoke test) and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: champion version at deploy time → (passes, reasons)
Recheck = Callable[[str | None], tuple[bool, list[str]]]
#: a loaded pyfunc model → a short description of what passed; raises if it fails
Smoke = Callable[[Any], str]


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
