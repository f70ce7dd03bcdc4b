"""``ml-platform``: operator commands (status, demo, serve, replay)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _instance():  # type: ignore[no-untyped-def]
    import os
    from pathlib import Path

    import dagster as dg

    from ml_platform.ops.home import ensure_dagster_home

    ensure_dagster_home(os.environ, Path.cwd())
    return dg.DagsterInstance.get()


class UserError(Exception):
    """A mistake of the caller's (a bad spec, option or setting): one line, no traceback."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from pydantic import ValidationError

    from ml_platform.registry import UnknownEntryError
    from ml_platform.specs import SpecError

    return (UserError, SpecError, UnknownEntryError, ValidationError, FileNotFoundError, ValueError)


def cmd_status(args: argparse.Namespace) -> int:
    from ml_platform.environments import current_environment
    from ml_platform.ops.status import collect_status, render_text
    from ml_platform.specs import configured_specs, resolve_spec

    env = current_environment()
    specs = [resolve_spec(args.spec)] if args.spec else configured_specs()
    with _instance() as instance:
        statuses = collect_status(specs, env.mlflow(), instance)
    print(json.dumps(statuses, indent=2, default=str) if args.json else render_text(statuses))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ml_platform.ops.demo import run_demo

    with _instance() as instance:
        return run_demo(instance, start=args.start, end=args.end, spec_name=args.spec)


def cmd_serve(args: argparse.Namespace) -> int:
    from ml_platform.environments import current_environment
    from ml_platform.serving.server import run
    from ml_platform.specs import configured_specs, resolve_spec

    env = current_environment()
    if args.model_name is None:
        specs = [resolve_spec(args.spec)] if args.spec else configured_specs()
        if len(specs) > 1:
            names = ", ".join(s.name for s in specs)
            raise UserError(f"serve: several specs are configured ({names}): pass --spec NAME")
        args.model_name = specs[0].model_name
    args.tracking_uri = args.tracking_uri or env.mlflow_tracking_uri
    args.log_dir = args.log_dir or str(env.home / "prediction_log" / args.model_name)
    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ml-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="champion, latest challenger and asset freshness per pipeline")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--spec", default=None, help="one spec (name or path); default: all configured")
    status.set_defaults(fn=cmd_status)
    demo = sub.add_parser("demo", help="run the whole lifecycle headless on the local environment")
    demo.add_argument("--start", default=None, help="first partition (default: the spec's start)")
    demo.add_argument("--end", default=None, help="last partition (default: the spec's end)")
    demo.add_argument("--spec", default=None, help="spec name (of an installed plugin) or path")
    demo.set_defaults(fn=cmd_demo)
    from ml_platform.serving.server import add_parser as add_serve

    add_serve(sub).set_defaults(fn=cmd_serve)
    from devtools.replay import add_parser as add_replay

    add_replay(sub)
    from ml_platform.ops.history import add_parsers as add_history

    add_history(sub)
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    try:
        return int(args.fn(args))
    except _user_errors() as exc:
        print(f"ml-platform: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ml-platform: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) if len(lines) <= 4 else "; ".join([*lines[:4], f"… ({len(lines) - 4} more)"])


if __name__ == "__main__":
    sys.exit(main())
