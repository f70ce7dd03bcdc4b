"""A long-lived deploy driver for fault-injection tests: imports Dagster, MLflow and the pipeline
once, then runs each requested deploy in a *forked child process* on the real on-disk Dagster
instance and MLflow database, so a test can kill a real deploy process at any point cheaply.

Usage: ``python -m ml_platform_tests.deploy_driver HOME DAGSTER_DIR SPEC_YAML``; then one JSON
command per stdin line, ``{"runs": [{"version": "2", "fault": "deploy:after_alias"}, ...]}``
(several runs start together), answered by one JSON line ``{"results": [{"rc": 137, "pid": ...}]}``.
A child exits 0 (run succeeded), 1 (run failed; its error is in ``error``) or 137 (killed).

MLflow waits 20 s on a locked SQLite database (``PRAGMA busy_timeout``); the driver shortens that
wait to 1.5 s so the locked-database test is quick. Nothing else is changed."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

BUSY_MS = 1500


def _shorter_sqlite_waits() -> None:
    import sqlalchemy as sa

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute", retval=True)
    def _busy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "busy_timeout" in statement:
            statement = f"PRAGMA busy_timeout = {BUSY_MS};"
        return statement, parameters


def _preload() -> None:
    """Import (never connect) what a deploy uses lazily, once, so each forked child starts warm."""
    import alembic.migration  # noqa: F401
    import mlflow.pyfunc  # noqa: F401
    import mlflow.sklearn  # noqa: F401
    import mlflow.store.model_registry.sqlalchemy_store  # noqa: F401
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import skops.io  # noqa: F401


def _child(defs: Any, dagster_dir: str, run: dict[str, Any], out: Path) -> int:
    import dagster as dg

    if run.get("fault"):
        os.environ["ML_PLATFORM_FAULT"] = run["fault"]
    job = defs.resolve_job_def(run["job"])
    config = run.get("config") or {
        "version": run["version"],
        "kind": run.get("kind", "deploy"),
        "reason": run.get("reason", ""),
    }
    result: dict[str, Any] = {}
    try:
        with dg.DagsterInstance.from_config(dagster_dir) as instance:
            res = job.execute_in_process(
                instance=instance,
                run_config={
                    "ops": {run["op"]: {"config": config}},
                    "loggers": {"console": {"config": {"log_level": "ERROR"}}},
                },
                raise_on_error=False,
            )
            result["success"] = res.success
            if res.success and "version" in config:
                result["output"] = res.output_for_node(run["op"])
            else:
                failures = [e for e in res.all_events if e.is_step_failure]
                result["error"] = failures[0].step_failure_data.error.message if failures else "failed"  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - reported to the test
        result = {"success": False, "error": traceback.format_exc()}
    out.write_text(json.dumps(result, default=str))
    return 0 if result.get("success") else 1


def main(home: str, dagster_dir: str, spec_path: str) -> None:
    from ml_platform.definitions import build_definitions
    from ml_platform.environments import local_environment
    from ml_platform.specs import load_spec

    _shorter_sqlite_waits()
    _preload()
    spec = load_spec(Path(spec_path))
    defs = build_definitions([spec], local_environment(home))
    print(json.dumps({"ready": True}), flush=True)
    for n, line in enumerate(sys.stdin):
        command = json.loads(line)
        children = []
        for i, run in enumerate(command["runs"]):
            out = Path(home, f"driver-{n}-{i}.json")
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = _child(defs, dagster_dir, run, out)
                finally:
                    os._exit(code)
            children.append((pid, out))
        results = []
        for pid, out in children:
            _, status = os.waitpid(pid, 0)
            rc = os.waitstatus_to_exitcode(status)
            rc = 137 if rc == -9 else rc
            body = json.loads(out.read_text()) if out.exists() else {}
            results.append({"pid": pid, "rc": rc, **body})
        print(json.dumps({"results": results}, default=str), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
