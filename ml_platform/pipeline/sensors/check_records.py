"""Reading asset-check evaluations from the instance: shared by the deploy, alert and retrain sensors."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)

FINISHED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def new_evaluations(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, cursor: int, limit: int = 100
) -> list[tuple[AssetCheckExecutionRecord, dg.AssetCheckEvaluation]]:
    """Finished evaluations of ``check_key`` with record id > ``cursor``, oldest first."""
    history = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=limit)
    out = []
    for record in sorted(history, key=lambda r: r.id):
        if record.id <= cursor or record.status not in FINISHED or record.event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data  # type: ignore[union-attr]
        if isinstance(evaluation, dg.AssetCheckEvaluation):
            out.append((record, evaluation))
    return out


def metadata_text(metadata: Mapping[str, Any], key: str) -> str | None:
    """A metadata entry as plain text (``None`` when absent)."""
    value = metadata.get(key)
    return None if value is None else str(getattr(value, "value", value))
