"""``ml-platform``: operator commands (status, demo)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _instance():  # type: ignore[no-untyped-def]
    import dagster as dg

    return dg.DagsterInstance.get()


def cmd_status(args: argparse.Namespace) -> int:
    from ml_platform.environments import current_environment
    from ml_platform.specs import bundled_specs
    from ml_platform.status import collect_status, render_text

    env = current_environment()
    with _instance() as instance:
        statuses = collect_status(bundled_specs(), env.mlflow(), instance)
    print(json.dumps(statuses, indent=2, default=str) if args.json else render_text(statuses))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ml_platform.demo import run_demo

    with _instance() as instance:
        return run_demo(instance, start=args.start, end=args.end)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ml-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="champion, latest challenger and asset freshness per pipeline")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(fn=cmd_status)
    demo = sub.add_parser("demo", help="run the whole lifecycle headless on the local environment")
    demo.add_argument("--start", default=None, help="first partition (default: the spec's start)")
    demo.add_argument("--end", default=None, help="last partition (default: the spec's end)")
    demo.set_defaults(fn=cmd_demo)
    from ml_platform.replay import add_parser as add_replay

    add_replay(sub)
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
