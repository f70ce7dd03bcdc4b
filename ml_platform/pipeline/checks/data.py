"""Blocking data checks of a cleaned table, evaluated by the cleaned asset BEFORE it stores anything.

The checks are ``check_specs`` of the cleaned multi-asset: the asset computes them from the cleaned
frame and the stored statistics of earlier partitions (:mod:`ml_platform.ml.data_checks`), yields
the results, and publishes the cleaned output only when every blocking one passed; otherwise it
fails the step naming each bad partition and its reason, and the last good copy stays in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.ml import data_checks as dc
from ml_platform.ml.cleaning import PARTITION_COLUMN, CleaningResult
from ml_platform.specs.models import ChecksSpec, PipelineSpec, TableSpec

UNPARTITIONED = "all"


def data_check_specs(spec: PipelineSpec, table: TableSpec, asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    cfg = spec.checks
    described = {
        "contract": "The delivery has every required column and is a readable table.",
        dc.QUARANTINE_SHARE: f"At most {cfg.max_quarantine_share:.0%} of each partition's delivered "
        "rows are quarantined (bad values, conflicting keys, duplicate rows).",
        "unique_key": f"Primary key {table.primary_key} is unique in cleaned data.",
        dc.VOLUME: f"Delivered rows within {cfg.volume.min_ratio:g}x..{cfg.volume.max_ratio:g}x the "
        f"median of the previous {cfg.history_partitions} published partitions"
        + ("." if table.partitioned else " (a lookup: of its last published version)."),
    }
    if table is spec.main_table and table.partitioned:
        classes = spec.class_names
        described[dc.TARGET] = (
            f"Share of each of the {len(classes)} target.classes within "
            f"{cfg.max_rate_shift_logit:g} log-odds of its recent median"
            if classes
            else f"Positive rate within {cfg.max_rate_shift_logit:g} log-odds of the recent median"
            if spec.task == "classification"
            else f"Target mean within {cfg.max_mean_shift_sd:g} typical daily std of the recent median"
        ) + f" (partitions with at least {cfg.min_labelled_rows} labelled rows)."
        described[dc.MISSING_TARGET] = (
            f"At most {cfg.max_missing_target_share:.0%} of cleaned rows lack `{spec.target.column}`."
        )
    # Not partitioned check specs: Dagster 1.13 records a check yielded by a multi-partition step
    # without its partitions, so `all_deps_blocking_checks_passed()` (the scoring automation) would
    # never see a partitioned one pass. Each result's metadata names its partitions instead
    # (`failed_partitions`), and the asset itself publishes nothing when one fails.
    return [dg.AssetCheckSpec(n, asset=asset, blocking=True, description=d) for n, d in described.items()]


def _partitions(spec: PipelineSpec) -> dg.TimeWindowPartitionsDefinition:
    from ml_platform.pipeline.names import PipelineNames

    return PipelineNames(spec).partitions_def


def _stored_history(
    instance: dg.DagsterInstance, key: dg.AssetKey, first: str | None, cfg: ChecksSpec, all_keys: list[str]
) -> dict[str, dc.PartitionStats]:
    """Stats of the published partitions before ``first`` (``None``: the lookup's last version);
    ``all_keys``: the pipeline's partition keys in order (days, hours or weeks)."""
    if first is None:
        records = instance.fetch_materializations(key, limit=1).records
        wanted: list[str] | None = None
    else:
        position = all_keys.index(first)
        wanted = all_keys[max(0, position - cfg.history_partitions) : position][::-1]
        if not wanted:
            return {}
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=wanted), limit=20 * len(wanted)
        ).records
    out: dict[str, dc.PartitionStats] = {}
    for record in records:  # newest first: the first seen per partition is the published one
        label = record.partition_key or UNPARTITIONED
        materialization = record.asset_materialization
        if label in out or materialization is None:
            continue
        values = {k: v.value for k, v in materialization.metadata.items()}
        stats = dc.PartitionStats.from_metadata(values)
        if stats is not None:
            out["0000-00-00" if first is None else label] = stats  # a lookup's last version sorts first
    return out


def evaluate_checks(
    context: dg.AssetExecutionContext,
    spec: PipelineSpec,
    table: TableSpec,
    asset: dg.AssetKey,
    raw: pd.DataFrame,
    result: CleaningResult,
) -> tuple[list[dg.AssetCheckResult], dict[str, dc.PartitionStats], str | None]:
    """(check results, per-partition stats to store, failure message naming partitions and reasons
    or ``None`` when every blocking check passed)."""
    cfg = spec.checks
    is_main = table is spec.main_table and table.partitioned
    cleaned, quarantine = result.cleaned, result.quarantine
    label = dc.labels(cleaned[spec.target.column], spec.task, spec.target) if is_main else None
    if table.partitioned:
        keys = list(context.partition_keys)
        counts = raw.groupby(PARTITION_COLUMN).size() if len(raw) else pd.Series(dtype=int)
        delivered = {k: int(counts.get(k, 0)) for k in keys}
        classes = spec.class_names if is_main else None
        shares = (
            dc.class_shares(cleaned[spec.target.column], cleaned[PARTITION_COLUMN], classes)
            if classes and len(cleaned)
            else None
        )
        stats = dc.partition_stats(delivered, cleaned, quarantine, label, shares)
        reasons: Mapping[str, Mapping[str, int]] = dc.quarantine_reasons(quarantine)
        history = _stored_history(
            context.instance, asset, keys[0], cfg, list(_partitions(spec).get_partition_keys())
        )
    else:
        keys = [UNPARTITIONED]
        stats = {UNPARTITIONED: dc.PartitionStats(len(raw), len(quarantine))}
        reasons = {UNPARTITIONED: result.reasons}
        history = _stored_history(context.instance, asset, None, cfg, [])
        cfg = cfg.model_copy(update={"min_history": 1})
    task = spec.task if is_main else None
    allow_empty = not is_main or spec.partitioning.empty_days == "allow"
    reports = dc.evaluate(keys, stats, history, cfg, task, reasons, allow_empty=allow_empty)
    dupes = int(cleaned.drop_duplicates().duplicated(table.primary_key).sum()) if table.primary_key else 0
    results = [dg.AssetCheckResult(asset_key=asset, check_name="contract", passed=True)]
    for report in reports.values():
        metadata: dict[str, Any] = {
            "failed_partitions": dg.MetadataValue.json(report.failures),
            "partitions_checked": len(keys),
        }
        if report.name == dc.QUARANTINE_SHARE:
            metadata["reasons"] = dg.MetadataValue.json(result.reasons)
            metadata["share"] = round(len(quarantine) / max(len(raw), 1), 4)
        results.append(
            dg.AssetCheckResult(
                asset_key=asset,
                check_name=report.name,
                passed=report.passed,
                metadata=metadata,
                description=report.description(),
            )
        )
    results.append(
        dg.AssetCheckResult(
            asset_key=asset, check_name="unique_key", passed=dupes == 0, metadata={"duplicate_keys": dupes}
        )
    )
    failed = [f"{key} {r.name}: {text}" for r in reports.values() for key, text in r.failures.items()]
    if dupes:
        failed.append(f"unique_key: {dupes} duplicate keys {table.primary_key} in cleaned data")
    message = None
    if failed:
        message = (
            f"table '{table.name}': blocking data check(s) failed, nothing published (the last good "
            f"copy is kept): " + " | ".join(sorted(failed)[:10])
        )
    return results, stats, message
