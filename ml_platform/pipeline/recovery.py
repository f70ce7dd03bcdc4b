"""Converge after a killed training: MLflow runs left ``RUNNING`` are ended ``KILLED``, model versions
registered by a training that died before its gate are tagged ``validation_status=orphaned``, and
atomic-write temp files (``.<name>.<hex>.tmp``) older than a quiet period are removed.

Called at the start of every training (so "the next run" cleans up). A run or version is only
touched when its writer is provably gone: same host and its pid dead, or its Dagster run finished."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Any

from ml_platform.deploys.lock import _pid_alive

HOST_TAG, PID_TAG = "ml_platform/host", "ml_platform/pid"
TMP_QUIET_SECONDS = 15 * 60
IN_PROGRESS = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}


def worker_tags() -> dict[str, str]:
    """Who is writing: recorded on the MLflow run and version so a later run can tell it died."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def writer_gone(tags: dict[str, str], instance: Any | None) -> str | None:
    """Why the writer of a run/version is gone (``None`` if it may still be alive)."""
    pid, host = tags.get(PID_TAG), tags.get(HOST_TAG)
    if pid and host == socket.gethostname():
        if int(pid) == os.getpid() or _pid_alive(int(pid)):
            return None
        return f"its process (pid {pid} on {host}) is gone"
    run_id = tags.get("dagster_run_id")
    if instance is not None and run_id:
        run = instance.get_run_by_id(run_id)
        if run is None:
            return f"its Dagster run {run_id} does not exist"
        if run.status.value not in IN_PROGRESS:
            return f"its Dagster run {run_id[:8]} ended {run.status.value}"
    return None


def recover_training_leftovers(registry: Any, experiment: str, model: str, instance: Any | None) -> list[str]:
    """End orphaned MLflow runs and tag orphan versions of ``model``; returns what was done."""
    client = registry.client()
    notes: list[str] = []
    exp = client.get_experiment_by_name(experiment)
    if exp is not None:
        for run in client.search_runs([exp.experiment_id], filter_string="attributes.status = 'RUNNING'"):
            why = writer_gone(dict(run.data.tags), instance)
            if why:
                client.set_tag(run.info.run_id, "ml_platform/recovered", f"marked KILLED: {why}")
                client.set_terminated(run.info.run_id, status="KILLED")
                notes.append(f"MLflow run {run.info.run_id} was left RUNNING ({why}): marked KILLED")
    for mv in client.search_model_versions(f"name = '{model}'"):
        tags = dict(mv.tags)
        if "deploy_gate" in tags or "validation_status" in tags:
            continue
        if mv.run_id and PID_TAG not in tags:  # killed before the run's tags reached the version
            with contextlib.suppress(Exception):
                tags = {**client.get_run(mv.run_id).data.tags, **tags}
        why = writer_gone(tags, instance)
        if why:
            registry.tag_version(
                model, str(mv.version), {"validation_status": "orphaned", "orphan_reason": f"no gate: {why}"}
            )
            notes.append(
                f"{model} v{mv.version} has no gate decision ({why}): tagged validation_status=orphaned"
            )
    return notes


def clean_temp_files(root: str | Path, quiet_seconds: float = TMP_QUIET_SECONDS) -> list[str]:
    """Remove ``.*.tmp`` files under ``root`` untouched for ``quiet_seconds`` (a live writer renames
    its temp file within seconds)."""
    cutoff = time.time() - quiet_seconds
    removed = []
    for path in Path(root).rglob(".*.tmp"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(str(path))
        except FileNotFoundError:
            continue
    return removed


def fail_dead_runs(instance: Any, limit: int = 50) -> list[str]:
    """Mark ``STARTED`` runs whose run worker died FAILURE (so run retries and alerts see them).

    The local DefaultRunLauncher cannot report worker health to Dagster's run monitoring; its run
    workers log ``Started process for run (pid: N)``, on this machine. Runs executed in-process
    (no such event) are left alone."""
    import dagster as dg
    from dagster._core.launcher import DefaultRunLauncher

    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return []  # e.g. K8sRunLauncher: run monitoring checks worker health itself
    notes = []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=limit)
    for run in runs:
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
        pids = [
            int(str(getattr(r.event_log_entry.dagster_event.engine_event_data.metadata["pid"], "value", "0")))
            for r in records
            if r.event_log_entry.dagster_event is not None
            and "Started process for run" in (r.event_log_entry.dagster_event.message or "")
            and "pid" in r.event_log_entry.dagster_event.engine_event_data.metadata
        ]
        if pids and not _pid_alive(pids[-1]):
            message = f"run worker (pid {pids[-1]}) is gone (killed?): marked failed by ml_platform"
            instance.report_run_failed(run, message)
            notes.append(f"run {run.run_id} ({run.job_name}): {message}")
    return notes
