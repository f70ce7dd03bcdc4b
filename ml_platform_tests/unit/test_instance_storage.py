"""The local Dagster storage class (real SQLite files in tmp_path): loads from a dagster.yaml the way
`make` writes it, keeps Dagster's layout, commits with synchronous=NORMAL under DAGSTER_HOME only,
batches events, and keeps its engines per process (another process's writes seen, wipe, fork)."""

import os
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from ml_platform.integrations.sqlite_tuned import EVENT_BATCH_SIZE

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
    from ml_platform.integrations.sqlite_tuned import BatchingSqliteEventLogStorage

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


def _made_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    config = (ROOT / "dagster.yaml").read_text() + (ROOT / "deploy/local/dagster_storage.yaml").read_text()
    (home / "dagster.yaml").write_text(config)
    return home


@dg.asset
def _answer() -> int:
    return 42


def test_engines_kept_per_database_run_files_closed_after_each_use(tmp_path, monkeypatch) -> None:
    """Runs, schedules and the event index keep their engine (and open connections) across uses; a
    run's own event database keeps its engine but is closed after each write, so its WAL is
    checkpointed into the file the webserver's live view watches."""
    from ml_platform.integrations import sqlite_tuned as storage

    home = _made_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([_answer], instance=instance)
        second = dg.materialize([_answer], instance=instance)
        assert result.success and second.success
        kept = {k[1] for k in storage._KEPT_OPEN if str(home) in k[1]}
        names = {Path(k.split("///")[-1]).name for k in kept}
        assert {"runs.db", "index.db"} <= names <= {"runs.db", "schedules.db", "index.db"}
        runs_url = next(k for k in kept if k.endswith("runs.db"))
        engine = storage._engine(runs_url, keep_open=True)
        assert storage._engine(runs_url, keep_open=True) is engine  # the same one, reused
        assert engine.pool.checkedin() >= 1  # an idle connection stays open
        events = home / "history" / "runs"
        assert (events / f"{result.run_id}.db").exists()
        assert not (events / f"{result.run_id}.db-wal").exists()  # closed: checkpointed
        assert (events / "index.db-wal").exists()  # kept open by this process
        assert len(instance.get_runs()) == 2
        assert {r.run_id for r in instance.get_runs()} == {result.run_id, second.run_id}


def test_another_process_writes_are_seen_through_kept_connections(tmp_path, monkeypatch) -> None:
    """A run stored by another process (as the daemon's and webserver's are) is visible to this
    process's kept connections at once, with its events."""
    import subprocess
    import sys

    home = _made_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([_answer], instance=instance).success
        code = (
            "import dagster as dg\n"
            "@dg.asset\ndef other() -> int:\n    return 1\n"
            "with dg.DagsterInstance.get() as i:\n    print(dg.materialize([other], instance=i).run_id)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
        )
        other_run = out.stdout.strip().splitlines()[-1]
        assert other_run in {r.run_id for r in instance.get_runs()}
        assert instance.get_latest_materialization_event(dg.AssetKey("other")) is not None
        assert any(
            e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in instance.all_logs(other_run)
        )


def test_wipe_drops_run_engines_and_later_runs_still_record(tmp_path, monkeypatch) -> None:
    home = _made_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        first = dg.materialize([_answer], instance=instance)
        instance.wipe()
        assert not (home / "history" / "runs" / f"{first.run_id}.db").exists()
        again = dg.materialize([_answer], instance=instance)
        assert again.success
        assert (home / "history" / "runs" / f"{again.run_id}.db").exists()
        kinds = [e.dagster_event_type for e in instance.all_logs(again.run_id)]
        assert dg.DagsterEventType.ASSET_MATERIALIZATION in kinds


def test_forked_child_opens_its_own_engines(tmp_path) -> None:
    """A child forked after the parent opened a database gets its own engine, never the parent's
    connections, and the parent's stay usable."""
    import multiprocessing

    from ml_platform.integrations import sqlite_tuned as storage

    url = f"sqlite:///{tmp_path / 'x.db'}"
    with storage._engine(url, keep_open=True).connect() as conn, conn.begin():
        conn.execute(sa.text("CREATE TABLE t (v INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_writes, args=(url, queue))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    child_pid, pids_known = queue.get(timeout=5)
    assert pids_known == [child_pid]  # the parent's engine was dropped in the child
    with storage._engine(url, keep_open=True).connect() as conn:
        assert sorted(v for (v,) in conn.execute(sa.text("SELECT v FROM t"))) == [1, 2]


def _child_writes(url: str, queue) -> None:
    from ml_platform.integrations import sqlite_tuned as storage

    with storage._engine(url, keep_open=True).connect() as conn, conn.begin():
        conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    queue.put((os.getpid(), sorted({k[0] for k in storage._KEPT_OPEN})))


def test_live_watch_sees_a_run_written_by_another_process(tmp_path, monkeypatch) -> None:
    """The webserver's live run view watches the run's database file (watchdog); events written
    through this storage by another process reach the watcher while that run is going on."""
    import subprocess
    import sys
    import threading

    home = _made_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    seen: list[dg.DagsterEventType | None] = []
    done = threading.Event()

    def callback(event, _cursor) -> None:  # type: ignore[no-untyped-def]
        seen.append(event.dagster_event_type)
        if event.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS:
            done.set()

    run_id = "0f0f0f0f-0000-4000-8000-000000000001"
    with dg.DagsterInstance.get() as instance:
        instance.watch_event_logs(run_id, None, callback)
        code = (
            "import dagster as dg\n"
            "import time\n"  # the run outlasts the watcher's first look (at the file's creation)
            "@dg.asset\ndef watched() -> int:\n    time.sleep(2)\n    return 1\n"
            "job = dg.Definitions(assets=[watched]).get_implicit_global_asset_job_def()\n"
            f"with dg.DagsterInstance.get() as i:\n    job.execute_in_process(instance=i, run_id={run_id!r})\n"
            "    import sys; sys.stdin.read()  # stays alive, its storage open, until the parent has looked\n"
        )
        writer = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE)
        try:
            assert done.wait(60), f"while the writer was alive, the watcher saw only {seen}"
            assert writer.poll() is None  # seen before the writer's exit could checkpoint anything
        finally:
            writer.communicate(b"", timeout=60)
        assert writer.returncode == 0
        instance.end_watch_event_logs(run_id, callback)
    assert dg.DagsterEventType.ASSET_MATERIALIZATION in seen


def _home_with(tmp_path, name: str, storage_yaml: bool) -> str:
    home = tmp_path / name
    home.mkdir()
    config = (ROOT / "dagster.yaml").read_text()
    if storage_yaml:
        config += (ROOT / "deploy/local/dagster_storage.yaml").read_text()
    (home / "dagster.yaml").write_text(config)
    return str(home)


def test_another_dagster_version_falls_back_to_stock_storage_with_one_warning(tmp_path, monkeypatch) -> None:
    import dagster

    from ml_platform.integrations.instance_storage import WRITTEN_FOR

    assert dagster.__version__ == WRITTEN_FOR  # the pinned release is the one the tuning was written for
    monkeypatch.setenv("DAGSTER_HOME", _home_with(tmp_path, "home", storage_yaml=True))
    monkeypatch.setattr(dagster, "__version__", "1.14.0")
    with pytest.warns(
        RuntimeWarning, match=r"written for dagster 1\.13\.27, found 1\.14\.0: using Dagster's stock"
    ):
        instance = dg.DagsterInstance.get()
    with instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"  # Dagster's own class
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert dg.materialize([dg.asset(lambda: 1, name="one")], instance=instance).success


def _event_records(instance: dg.DagsterInstance) -> list[tuple]:
    """Every event of every run, without ids, timestamps and run ids (which differ by nature)."""
    out = []
    for run in sorted(instance.get_runs(), key=lambda r: r.job_name + str(r.tags.get("n"))):
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                out.append(("log", entry.user_message[:60]))
                continue
            data = event.event_specific_data
            mat = getattr(data, "materialization", None)
            out.append(
                (
                    event.event_type_value,
                    event.step_key,
                    mat.asset_key.to_user_string() if mat else None,
                    mat.partition if mat else None,
                    sorted((k, str(v.value)) for k, v in mat.metadata.items()) if mat else None,
                )
            )
    return out


def test_tuned_and_stock_storage_record_the_same_events(tmp_path, monkeypatch) -> None:
    """Differential: the same partitioned materializations (a 5-day single-run backfill with a
    partitioned check, then one day again) on Dagster's stock SQLite storage and on the tuned one give
    the same event records in the same order, the same partition statuses and check executions."""
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")

    @dg.asset(partitions_def=partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def daily(context: dg.AssetExecutionContext) -> dg.Output[None]:
        return dg.Output(None, metadata={"days": len(context.partition_keys)})

    @dg.asset(deps=[daily])
    def summary() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 5})

    @dg.asset_check(asset=daily, partitions_def=partitions)
    def daily_ok() -> dg.AssetCheckResult:  # planned per partition of the run: one row each
        return dg.AssetCheckResult(passed=True)

    results = {}
    for name, tuned in (("stock", False), ("tuned", True)):
        monkeypatch.setenv("DAGSTER_HOME", _home_with(tmp_path, name, storage_yaml=tuned))
        with dg.DagsterInstance.get() as instance:
            assert (type(instance.run_storage).__name__ == "KeptSqliteRunStorage") is tuned
            rng = {
                "dagster/asset_partition_range_start": "2024-01-01",
                "dagster/asset_partition_range_end": "2024-01-05",
            }
            assert dg.materialize(
                [daily, summary, daily_ok], instance=instance, tags={**rng, "n": "1"}
            ).success
            assert dg.materialize(
                [daily], instance=instance, partition_key="2024-01-03", tags={"n": "2"}
            ).success
            materialized = instance.get_materialized_partitions(daily.key)
            checks = instance.event_log_storage.get_asset_check_execution_history(daily_ok.check_key, 50)
            executions = sorted((c.partition or "", c.status.value) for c in checks)
            results[name] = (_event_records(instance), sorted(materialized), executions)
    stock, tuned_ = results["stock"], results["tuned"]
    assert len(stock[0]) > 20 and stock[1] == [f"2024-01-0{d}" for d in range(1, 6)]
    # the run's five partitions planned (one row each), the range's one result
    assert stock[2] == [("", "SUCCEEDED"), *((f"2024-01-0{d}", "PLANNED") for d in range(1, 6))]
    assert tuned_ == stock
