"""The history of alias ``champion`` and the pending deploy intent, kept as tags of the registered
model in MLflow (so they live where the alias lives, visible in the MLflow UI).

Each move is one tag ``champion_history.<seq>`` holding a JSON entry (``seq``, ``event``, ``from``,
``to``, ``at``, ``by``, ``run_id``, ``reason``, ``evidence``); the sequence number is fixed when
the intent is recorded, so writing an entry again after a crash overwrites it instead of adding a
duplicate. ``deploy_intent`` holds the deploy in progress (cleared when it completes or aborts)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

HISTORY_PREFIX = "champion_history."
INTENT_TAG = "deploy_intent"
MOVES = ("deploy", "rollback", "repair")  # events after which ``to`` is the champion


class TagStore(Protocol):
    def model_tags(self, model: str) -> dict[str, str]: ...
    def set_model_tag(self, model: str, key: str, value: str) -> None: ...
    def delete_model_tag(self, model: str, key: str) -> None: ...


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def history(store: TagStore, model: str) -> list[dict[str, Any]]:
    """Every recorded move of ``champion``, oldest first."""
    tags = store.model_tags(model)
    entries = [json.loads(v) for k, v in tags.items() if k.startswith(HISTORY_PREFIX)]
    return sorted(entries, key=lambda e: int(e["seq"]))


def next_seq(store: TagStore, model: str) -> int:
    tags = store.model_tags(model)
    seqs = [int(k.removeprefix(HISTORY_PREFIX)) for k in tags if k.startswith(HISTORY_PREFIX)]
    intent = tags.get(INTENT_TAG)
    if intent:
        seqs.append(int(json.loads(intent)["seq"]))
    return max(seqs, default=0) + 1


def record(store: TagStore, model: str, entry: dict[str, Any]) -> None:
    store.set_model_tag(model, f"{HISTORY_PREFIX}{int(entry['seq']):05d}", json.dumps(entry, sort_keys=True))


def read_intent(store: TagStore, model: str) -> dict[str, Any] | None:
    raw = store.model_tags(model).get(INTENT_TAG)
    return json.loads(raw) if raw else None


def write_intent(store: TagStore, model: str, intent: dict[str, Any]) -> None:
    store.set_model_tag(model, INTENT_TAG, json.dumps(intent, sort_keys=True))


def clear_intent(store: TagStore, model: str) -> None:
    if INTENT_TAG in store.model_tags(model):
        store.delete_model_tag(model, INTENT_TAG)


def last_move_to(entries: list[dict[str, Any]], version: str) -> dict[str, Any] | None:
    """The latest entry that made ``version`` champion."""
    for entry in reversed(entries):
        if entry["event"] in MOVES and entry.get("to") == version:
            return entry
    return None


def was_champion(store: Any, model: str, version: str) -> bool:
    """``version`` was live once: a recorded move to it, or a ``deployed_at`` tag (older deploys)."""
    if last_move_to(history(store, model), version) is not None:
        return True
    return bool(store.model_version(model, version).tags.get("deployed_at"))


def _v(version: str | None) -> str:
    return f"v{version}" if version else "none"


def describe(entry: dict[str, Any]) -> str:
    """One line: ``#3 2026-12-01T10:00:00+00:00 rollback v3 -> v2 by alice@host: reason``."""
    move = f"{_v(entry.get('from'))} -> {_v(entry.get('to'))}"
    if entry["event"] == "smoke_failed":
        move = f"v{entry['target']} failed its smoke test; champion stays {_v(entry.get('to'))}"
    return f"#{entry['seq']} {entry['at']} {entry['event']} {move} by {entry.get('by') or '?'}: " + (
        entry.get("reason") or ""
    )


def markdown_table(entries: list[dict[str, Any]], last: int = 20) -> str:
    rows = ["| # | when (UTC) | event | from | to | by | why |", "|---|---|---|---|---|---|---|"]
    for e in entries[-last:]:
        to = e.get("to") if e["event"] != "smoke_failed" else f"{_v(e.get('to'))} (v{e['target']} failed)"
        why = (e.get("reason") or "").replace("|", "/")[:200]
        rows.append(
            f"| {e['seq']} | {e['at']} | {e['event']} | {_v(e.get('from'))} | "
            f"{to if e['event'] == 'smoke_failed' else _v(to)} | {e.get('by') or ''} | {why} |"
        )
    return "\n".join(rows)
