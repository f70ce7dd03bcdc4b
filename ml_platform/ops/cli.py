"""``ml-platform``: operator commands (status, demo, serve, replay, validate, init); each takes
``--spec NAME|PATH`` (repeatable; default: every configured spec, honouring ML_PLATFORM_SPEC_DIR)."""

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


SPEC_HELP = "spec name or path (repeatable); default: all configured (ML_PLATFORM_SPEC_DIR or plugins)"


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
    from ml_platform.specs import selected_specs

    env = current_environment()
    specs = selected_specs(args.spec)
    with _instance() as instance:
        statuses = collect_status(specs, env.mlflow(), instance)
    print(json.dumps(statuses, indent=2, default=str) if args.json else render_text(statuses))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ml_platform.ops.demo import run_demo
    from ml_platform.specs import selected_specs

    names = args.spec or [s.name for s in selected_specs(None)]
    with _instance() as instance:
        codes = [run_demo(instance, start=args.start, end=args.end, spec_name=name) for name in names]
    return max(codes, default=0)


def cmd_validate(args: argparse.Namespace) -> int:
    """Every named (or configured) spec parses, passes its cross-field checks and builds definitions."""
    from ml_platform.definitions import build_definitions
    from ml_platform.environments import current_environment
    from ml_platform.specs import selected_specs

    specs = selected_specs(args.spec)
    defs = build_definitions(specs, current_environment())
    jobs = len(list(defs.resolve_all_job_defs()))
    for spec in specs:
        print(
            f"ok: {spec.name}: {spec.task}, target '{spec.target.column}', "
            f"{len(spec.features.model_columns)} features, estimator {spec.estimator.label}, "
            f"{spec.partitioning.n_partitions} {spec.partitioning.granularity} partitions"
        )
    print(f"{len(specs)} spec(s) valid; definitions build ({jobs} jobs)")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ml_platform.ops.scaffold import scaffold
    from ml_platform.specs import load_spec

    sample = Path(args.from_file)
    if not sample.is_file():
        raise UserError(f"init --from {sample}: no such file")
    out = Path(args.out) if args.out else Path(f"{args.name}.yaml")
    if out.exists() and not args.force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    out.write_text(scaffold(sample, args.name))
    spec = load_spec(out)  # the scaffold validates as written
    print(f"wrote {out}: {len(spec.main_table.columns)} columns, time column {spec.partitioning.day_columns}")
    print(f"review the target ('{spec.target.column}') and features, then: ml-platform validate --spec {out}")
    return 0


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
    status.add_argument("--spec", action="append", default=None, help=SPEC_HELP)
    status.set_defaults(fn=cmd_status)
    demo = sub.add_parser("demo", help="run the whole lifecycle headless on the local environment")
    demo.add_argument("--start", default=None, help="first partition (default: the spec's start)")
    demo.add_argument("--end", default=None, help="last partition (default: the spec's end)")
    demo.add_argument("--spec", action="append", default=None, help=SPEC_HELP)
    demo.set_defaults(fn=cmd_demo)
    validate = sub.add_parser("validate", help="check specs (schema, features, estimator) before running")
    validate.add_argument("spec_args", nargs="*", metavar="SPEC", help="spec names or paths")
    validate.add_argument("--spec", action="append", default=None, help=SPEC_HELP)
    validate.set_defaults(fn=cmd_validate)
    init = sub.add_parser("init", help="scaffold a spec from a sample of the data")
    init.add_argument("--from", dest="from_file", required=True, help="a sample CSV or Parquet file")
    init.add_argument("--name", required=True, help="pipeline name (lowercase, digits, _)")
    init.add_argument("--out", default=None, help="spec file to write (default: NAME.yaml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(fn=cmd_init)
    from ml_platform.serving.server import add_parser as add_serve

    add_serve(sub).set_defaults(fn=cmd_serve)
    from devtools.replay import add_parser as add_replay

    add_replay(sub)
    from ml_platform.ops.history import add_parsers as add_history

    add_history(sub)
    args = parser.parse_args(argv)
    if argv is None:  # a program (the console script), not a caller's function call
        from ml_platform.ml.memory import quick_exit_collection

        quick_exit_collection()
    if getattr(args, "spec_args", None):
        args.spec = [*(args.spec or []), *args.spec_args]
    try:
        return int(args.fn(args))
    except _user_errors() as exc:
        print(f"ml-platform: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ml-platform: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - an operator sees one line, never a traceback
        print(f"ml-platform: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) if len(lines) <= 4 else "; ".join([*lines[:4], f"… ({len(lines) - 4} more)"])


if __name__ == "__main__":
    sys.exit(main())
