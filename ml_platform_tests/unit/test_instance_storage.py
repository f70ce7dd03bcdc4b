"""The local Dagster storage class (real SQLite files in tmp_path): loads from a dagster.yaml the way
`make` writes it, keeps Dagster's layout, and commits with synchronous=NORMAL under DAGSTER_HOME only."""

import os
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from ml_platform.instance_storage import EVENT_BATCH_SIZE

ROOT = Path(__file__).resolve().parents[2]


def test_instance_from_made_dagster_yaml_runs_and_relaxes_fsync(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = (ROOT / "dagster.yaml").read_text() + (ROOT / "deploy/local/dagster_storage.yaml").read_text()
    (home / "dagster.yaml").write_text(config)
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset
    def one() -> int:
        return 1

    with dg.DagsterInstance.get() as instance:
        assert instance.get_ref().storage_data.class_name == "LocalSqliteStorage"
        result = dg.materialize([one], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("one")) is not None
    index = home / "history" / "runs" / "index.db"
    assert index.exists()  # Dagster's default layout
    inside = sa.create_engine(f"sqlite:///{index}")
    with inside.connect() as conn:
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    outside = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with outside.connect() as conn:
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL: untouched


def test_single_run_backfill_writes_every_partition_through_batches(tmp_path, monkeypatch) -> None:
    """A multi-partition output goes through store_event_batch; each partition's planned and
    materialization events land in the run shard and the index, as with one write per event."""
    from ml_platform.instance_storage import BatchingSqliteEventLogStorage

    home = tmp_path / "home"
    home.mkdir()
    config = (ROOT / "dagster.yaml").read_text() + (ROOT / "deploy/local/dagster_storage.yaml").read_text()
    (home / "dagster.yaml").write_text(config)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "")  # registers the restore,
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE")  # then unset: the storage must enable batching
    batches: list[int] = []
    original = BatchingSqliteEventLogStorage.store_event_batch

    def recording(self, events):  # the real method, counted
        batches.append(len(events))
        return original(self, events)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "store_event_batch", recording)
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-11")

    @dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
    def daily(context: dg.AssetExecutionContext) -> dict[str, int]:
        return {key: i for i, key in enumerate(context.partition_keys)}

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        result = dg.materialize(
            [daily],
            instance=instance,
            resources={"io_manager": dg.mem_io_manager},
            tags={
                "dagster/asset_partition_range_start": "2024-01-01",
                "dagster/asset_partition_range_end": "2024-01-10",
            },
        )
        assert result.success
        keys = days.get_partition_keys()
        assert instance.get_materialized_partitions(dg.AssetKey("daily")) == set(keys)
        records = instance.fetch_materializations(dg.AssetKey("daily"), limit=100).records
        assert sorted(r.partition_key for r in records) == sorted(keys)
        run_events = [
            e
            for e in instance.all_logs(result.run_id)
            if e.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        ]
        assert len(run_events) == len(keys)
        planned = instance.get_latest_planned_materialization_info(
            dg.AssetKey("daily"), partition="2024-01-05"
        )
        assert planned is not None and planned.run_id == result.run_id
    assert batches and max(batches) >= len(keys)  # the 10 materializations went as one batch
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == EVENT_BATCH_SIZE
