"""A plain-data description of generated Definitions (asset keys, deps, partitions, checks, jobs,
sensors, schedules, resource keys) for the snapshot test; JSON-stable and sorted."""

from __future__ import annotations

from typing import Any

import dagster as dg


def _partitions(pd_: Any) -> str | None:
    if pd_ is None:
        return None
    if isinstance(pd_, dg.TimeWindowPartitionsDefinition):
        return f"{type(pd_).__name__}({pd_.start.date()}..{pd_.end.date() if pd_.end else None}, {pd_.cron_schedule})"
    return type(pd_).__name__


def _condition(cond: Any) -> str | None:
    return None if cond is None else type(cond).__name__ + ":" + (cond.get_label() or cond.name or "")


def definitions_snapshot(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "automation": _condition(node.automation_condition),
            "backfill_policy": str(node.backfill_policy.policy_type) if node.backfill_policy else None,
        }
    checks = {
        f"{k.asset_key.to_user_string()}:{k.name}": {
            "blocking": graph.get_check_spec(k).blocking,
            "partitioned": graph.get_check_spec(k).partitions_def is not None
            if hasattr(graph.get_check_spec(k), "partitions_def")
            else None,
        }
        for k in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name))
    }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "tags": {k: v for k, v in sorted(job.tags.items()) if not k.startswith("dagster/")},
        }
    repo = defs.get_repository_def()
    sensors = {
        s.name: {
            "default_status": s.default_status.value,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
            "type": type(s).__name__,
        }
        for s in sorted(repo.sensor_defs, key=lambda s: s.name)
    }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "default_status": s.default_status.value,
            "job": s.job_name,
        }
        for s in sorted(repo.schedule_defs, key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "sensors": sensors,
        "schedules": schedules,
        "resources": {k: type(v).__name__ for k, v in sorted((defs.resources or {}).items())},
    }
