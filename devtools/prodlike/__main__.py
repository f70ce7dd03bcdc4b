"""``python -m devtools.prodlike up|down|status`` (``make prod-like`` / ``make prod-like-down``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from devtools.prodlike import control, stack
from devtools.prodlike.stack import SERVICES, StackState


def state_dir() -> Path:
    return Path(os.environ.get("ML_PLATFORM_HOME", ".ml_platform")).resolve() / "prod_like"


def cmd_up(args: argparse.Namespace) -> int:
    existing = StackState.load(state_dir())
    if existing and any(stack.running(existing, s) for s in SERVICES):
        print("The production-like stack is already running (`make prod-like-down` stops it):")
        print(control.where(existing))
        return 1
    began = time.monotonic()
    state, _ = control.up(state_dir(), args.start, args.end, engine=args.engine)
    print(f"\nProduction-like stack ready in {time.monotonic() - began:.0f}s:\n{control.where(state)}")
    print("\n`make prod-like-down` stops every process above and drops its two databases.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    if control.down(state_dir()) is None:
        print(f"nothing to stop (no {state_dir() / 'state.json'})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = StackState.load(state_dir())
    if state is None:
        print("not running")
        return 1
    for service in SERVICES:
        print(f"  {service}: {'running' if stack.running(state, service) else 'stopped'}")
    print(control.where(state))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.prodlike", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack and run the pipeline to a deployed champion")
    up.add_argument("--start", default="2013-01-01")
    up.add_argument("--end", default="2013-02-28")
    up.add_argument("--engine", choices=("spark", "pandas"), default="spark", help="feature engine")
    up.set_defaults(fn=cmd_up)
    sub.add_parser("down", help="stop what `up` started, drop its databases").set_defaults(fn=cmd_down)
    sub.add_parser("status", help="which parts run, and where").set_defaults(fn=cmd_status)
    args = parser.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
