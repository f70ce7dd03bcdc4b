"""``ml-platform history`` and ``ml-platform rollback``: the alias history of ``champion`` and a
rollback through the same deploy path (lock, smoke test of the export, history, notification).

User errors are answered in one line (exit 2), never with a traceback."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
from pathlib import Path
from typing import Any


class UserError(Exception):
    """Something the operator can fix; printed as one line."""


def _specs(name: str | None) -> list[Any]:
    from ml_platform.specs import configured_specs

    specs = configured_specs()
    if name is None:
        return specs
    chosen = [s for s in specs if name in (s.name, s.model_name)]
    if not chosen:
        raise UserError(f"no pipeline named {name!r} (known: {', '.join(s.name for s in specs)})")
    return chosen


def _instance() -> Any:
    """The Dagster instance: ``$DAGSTER_HOME``, else the project's local one (as ``make`` sets it)."""
    import dagster as dg

    from ml_platform.ops.home import ensure_dagster_home

    ensure_dagster_home(os.environ, Path.cwd())
    return dg.DagsterInstance.get()


def _v(version: str | None) -> str:
    return f"v{version}" if version else "none"


def cmd_history(args: argparse.Namespace) -> int:
    from ml_platform.deploys import history as hist
    from ml_platform.environments import current_environment

    registry = current_environment().mlflow()
    out = []
    for spec in _specs(args.spec):
        name = spec.model_name
        champion, previous = (registry.version_by_alias(name, a) for a in ("champion", "previous_champion"))
        entries = hist.history(registry, name)
        intent = hist.read_intent(registry, name)
        if args.json:
            out.append({"model": name, "champion": champion and str(champion.version),
                        "previous_champion": previous and str(previous.version),
                        "pending": intent, "history": entries})  # fmt: skip
            continue
        live = _v(champion and str(champion.version))
        print(f"{name}: champion {live}, previous_champion {_v(previous and str(previous.version))}")
        if intent:
            print(
                f"  pending: {intent['kind']} of v{intent['target']} since {intent['at']} (the next deploy finishes it)"
            )
        for entry in entries or []:
            print("  " + hist.describe(entry))
        if not entries:
            print("  (no recorded moves)")
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from ml_platform.definitions import build_definitions
    from ml_platform.deploys import history as hist
    from ml_platform.environments import current_environment

    specs = _specs(args.spec)
    if len(specs) > 1:
        raise UserError(f"several pipelines ({', '.join(s.name for s in specs)}): pass --spec NAME")
    spec, env = specs[0], current_environment()
    name, registry = spec.model_name, env.mlflow()
    if not args.reason.strip():
        raise UserError("--reason must say why (it goes into the alias history)")
    champion = registry.version_by_alias(name, "champion")
    if champion is None:
        raise UserError(f"{name} has no champion: nothing to roll back")
    target = args.to
    if target is None:
        previous = registry.version_by_alias(name, "previous_champion")
        if previous is None:
            raise UserError(f"{name} has no previous_champion: pass --to VERSION")
        target = str(previous.version)
    target = target.removeprefix("v")
    if target == str(champion.version):
        raise UserError(f"{name} v{target} is already the champion")
    from mlflow.exceptions import MlflowException

    try:
        registry.model_version(name, target)
    except MlflowException:
        raise UserError(f"{name} has no version {target!r}") from None
    if not hist.was_champion(registry, name, target):
        raise UserError(f"{name} v{target} was never champion: roll back only to a version that was live")
    by = f"{getpass.getuser()}@{socket.gethostname()} (ml-platform rollback)"
    op = f"{spec.name}__deployment"
    job = build_definitions([spec], env).resolve_job_def(f"{spec.name}_deploy")
    config = {"version": target, "kind": "rollback", "reason": args.reason, "by": by}
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config={
                "ops": {op: {"config": config}},
                "loggers": {"console": {"config": {"log_level": "ERROR"}}},
            },
            tags={"ml_platform/model_version": target, "ml_platform/rollback": "true"},
            raise_on_error=False,
        )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = failures[0].step_failure_data.error if failures else None  # type: ignore[union-attr]
        message = (error.message.strip().splitlines() or ["?"])[0] if error else "the deploy run failed"
        raise UserError(f"rollback of {name} to v{target} failed (run {result.run_id}): {message}")
    out = result.output_for_node(op)
    print(
        f"{name}: champion v{champion.version} -> v{out['version']} ({out['status']}); "
        f"previous_champion {_v(out['previous'])}; export {out['export_path']}; "
        f"history #{out['history_seq']}; run {result.run_id}"
    )
    return 0


def _guarded(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except UserError as exc:
            print(f"ml-platform {args.command}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            print(f"ml-platform {args.command}: {type(exc).__name__}: {first}")
        return 2

    return run


def add_parsers(sub: Any) -> None:
    history = sub.add_parser("history", help="every move of alias champion: who, why, when, evidence")
    history.add_argument("--spec", default=None, help="pipeline name (default: every pipeline)")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.set_defaults(fn=_guarded(cmd_history))
    rollback = sub.add_parser(
        "rollback", help="re-point champion (default: to previous_champion) through the deploy path"
    )
    rollback.add_argument("--spec", default=None, help="pipeline name (needed with several pipelines)")
    rollback.add_argument("--to", default=None, metavar="VERSION", help="default: previous_champion")
    rollback.add_argument("--reason", required=True, help="why (recorded in the alias history)")
    rollback.set_defaults(fn=_guarded(cmd_rollback))
