"""Fault injection on deploys: a real deploy process (forked by ``deploy_driver`` from a process that
imported everything once) on a real on-disk Dagster instance, real SQLite MLflow registry and export
directory, killed (``os._exit``/SIGKILL, no cleanup) at each named point of the deploy; two deploy
processes at once; the MLflow database write-locked by another connection mid-deploy. After each:
the champion is the old or a fully verified new version, ``previous_champion`` and the alias history
are complete, and a rerun converges."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ml_platform.deploys import history as hist
from ml_platform_tests.helpers import synthetic_regression_spec, write_spec, write_synthetic_landing

DAYS = 12
MODEL = "synthetic_demand"
JOB, OP = "synthetic_demand_deploy", "synthetic_demand__deployment"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS)
    spec = synthetic_regression_spec(landing, days=DAYS)
    w = make_world(spec, "faults")
    assert w.life.ingest("2024-01-01", f"2024-01-{DAYS:02d}").success
    assert w.life.train(reason="test").success
    w.life.tick_deploy_sensor()
    assert champion(w) == "1"
    w.spec_path = write_spec(spec, w.env.home / "spec")
    return w


class Driver:
    def __init__(self, world: Any) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ML_PLATFORM_FAULT": ""}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ml_platform_tests.deploy_driver", str(world.env.home),
             str(world.env.home / "dagster"), str(world.spec_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        assert json.loads(self._line())["ready"]

    def _line(self) -> str:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line, f"driver exited with {self.proc.wait()}"
        return line

    def start(self, *runs: dict[str, Any]) -> None:
        body = [{"job": JOB, "op": OP, **r} for r in runs]
        self.proc.stdin.write(json.dumps({"runs": body}) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def results(self) -> list[dict[str, Any]]:
        return json.loads(self._line())["results"]

    def run(self, *runs: dict[str, Any]) -> list[dict[str, Any]]:
        self.start(*runs)
        return self.results()


@pytest.fixture(scope="module")
def driver(world):
    d = Driver(world)
    yield d
    d.proc.stdin.close()  # type: ignore[union-attr]
    d.proc.wait(timeout=30)


def champion(world) -> str | None:  # type: ignore[no-untyped-def]
    mv = world.registry.version_by_alias(MODEL, "champion")
    return None if mv is None else str(mv.version)


def alias(world, name: str) -> str | None:  # type: ignore[no-untyped-def]
    mv = world.registry.version_by_alias(MODEL, name)
    return None if mv is None else str(mv.version)


def copy_of_champion(world) -> str:  # type: ignore[no-untyped-def]
    """A new registered version: the champion's model again (so it ties on the gate metric)."""
    reg = world.registry
    live = reg.model_version(MODEL, champion(world))
    model = reg.load_sklearn(f"models:/{MODEL}/{live.version}")
    import pandas as pd

    sample = pd.DataFrame({"store": ["s0", "s1"], "price": [2.0, 3.0], "promo": [0.0, 1.0]})
    logged = reg.log_trained_model(
        experiment=MODEL, model_name=MODEL, model=model, task="regression", params={}, metrics={},
        tags={"pipeline": MODEL, "holdout_partitions": live.tags["holdout_partitions"]},
        train_frame=sample.assign(units_sold=[1.0, 2.0]), target="units_sold", input_example=sample,
    )  # fmt: skip
    reg.tag_version(MODEL, logged["version"], {"deploy_gate": "passed"})
    return logged["version"]


def exports(world) -> Path:  # type: ignore[no-untyped-def]
    return world.env.home / "exports" / MODEL


def assert_live_and_complete(world, live: str, previous: str | None) -> None:  # type: ignore[no-untyped-def]
    """``live`` is champion and fully verified; bookkeeping complete; nothing left over."""
    reg = world.registry
    assert champion(world) == live
    assert alias(world, "previous_champion") == previous
    assert (exports(world) / f"v{live}" / "MLmodel").exists()
    assert (exports(world) / "CURRENT").read_text().strip() == f"v{live}"
    tags = reg.model_version(MODEL, live).tags
    assert tags["validation_status"] == "deployed" and tags["champion_from"] == (previous or "none")
    assert hist.read_intent(reg, MODEL) is None
    assert not list(exports(world).glob(".v*-*")), "staging directories left behind"
    entries = hist.history(reg, MODEL)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1)), "a move is missing"
    moves = [e for e in entries if e["event"] in hist.MOVES]
    for a, b in zip(moves, moves[1:], strict=False):
        assert b["from"] == a["to"], f"history broken between #{a['seq']} and #{b['seq']}"
    assert moves[-1]["to"] == live and moves[-1]["from"] == previous


#: every state between two steps of a deploy ("deploy:after_export" is the same state as
#: "export_staged" minus the staging directory; "after_alias" is hit by a real SIGKILL below)
POINTS = [
    "deploy:export_staged",
    "deploy:after_smoke",
    "deploy:after_previous",
    "deploy:after_tags",
    "deploy:after_history",
]


def test_a_deploy_killed_at_any_point_leaves_old_or_verified_new_and_a_rerun_converges(world, driver):
    other = copy_of_champion(world)  # v2; each round deploys the other of v1 / v2
    for point in POINTS:
        old = champion(world)
        new = other if old != other else "1"
        [killed] = driver.run({"version": new, "fault": point})
        assert killed["rc"] == 137, (point, killed)
        live = champion(world)
        assert live in (old, new), point
        if live == new:  # moved only after the exported copy and the registry version passed
            assert (exports(world) / f"v{new}" / "MLmodel").exists(), point
            assert alias(world, "previous_champion") == old, point
        [rerun] = driver.run({"version": new})
        assert rerun["rc"] == 0, (point, rerun.get("error"))
        assert rerun["output"]["status"] == "deployed", (point, rerun["output"])
        assert_live_and_complete(world, new, old)


def test_a_sigkill_while_the_alias_moves_then_a_rerun_with_the_same_config(world, driver, tmp_path):
    old, new = champion(world), copy_of_champion(world)
    marker = tmp_path / "pause"
    driver.start({"version": new, "fault": f"deploy:after_alias@pause={marker}"})
    reached = Path(f"{marker}.reached")
    deadline = time.monotonic() + 60
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(int(reached.read_text()), signal.SIGKILL)
    [killed] = driver.results()
    assert killed["rc"] == 137
    assert champion(world) == new and hist.read_intent(world.registry, MODEL) is not None
    # "already champion" is not the end: the retry finishes tags, history and intent
    [rerun] = driver.run({"version": new})
    assert rerun["rc"] == 0 and rerun["output"]["status"] == "deployed", rerun
    assert_live_and_complete(world, new, old)
    [again] = driver.run({"version": new})
    assert again["output"]["status"] == "already_champion"


def test_concurrent_deploys_are_serialized_and_every_move_stays_in_the_history(world, driver):
    old = champion(world)
    a, b = copy_of_champion(world), copy_of_champion(world)
    before = len(hist.history(world.registry, MODEL))
    results = driver.run({"version": a}, {"version": b})
    assert [r["rc"] for r in results] == [0, 0], results
    moves = hist.history(world.registry, MODEL)[before:]
    assert [m["event"] for m in moves] == ["deploy", "deploy"]
    first, second = moves
    assert first["from"] == old and second["from"] == first["to"], moves  # no move vanished
    assert {first["to"], second["to"]} == {a, b}
    assert_live_and_complete(world, second["to"], first["to"])
    from ml_platform.deploys.lock import DeployLock

    assert DeployLock(world.registry.deploy_lock_url()).holder(MODEL) is None


def test_mlflow_db_locked_mid_deploy_fails_clearly_and_nothing_is_half_moved(world, driver, tmp_path):
    old, previous = champion(world), alias(world, "previous_champion")
    new = copy_of_champion(world)
    marker = tmp_path / "pause"
    driver.start({"version": new, "fault": f"deploy:after_smoke@pause={marker}"})
    reached = Path(f"{marker}.reached")
    deadline = time.monotonic() + 60
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    db = sqlite3.connect(world.env.home / "mlflow.db", timeout=30, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    reached.unlink()
    time.sleep(4)  # the driver's MLflow waits 1.5 s for the lock, then fails
    db.execute("ROLLBACK")
    db.close()
    [failed] = driver.results()
    assert failed["rc"] == 1
    assert "database is locked" in failed["error"] and "Nothing was half-moved" in failed["error"]
    assert champion(world) == old and alias(world, "previous_champion") == previous
    assert hist.read_intent(world.registry, MODEL)["target"] == new
    [rerun] = driver.run({"version": new})
    assert rerun["rc"] == 0 and rerun["output"]["status"] == "deployed", rerun
    assert_live_and_complete(world, new, old)


def _cli_env(world, monkeypatch=None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {
        "ML_PLATFORM_HOME": str(world.env.home),
        "ML_PLATFORM_SPEC_DIR": str(world.spec_path.parent),
        "DAGSTER_HOME": str(world.env.home / "dagster"),
    }
    if monkeypatch is not None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    return env


def test_rollback_command_repoints_champion_through_the_deploy_path(world, monkeypatch, capsys):
    from ml_platform.ops.cli import main

    old, previous = champion(world), alias(world, "previous_champion")
    _cli_env(world, monkeypatch)
    code = main(["rollback", "--reason", "latency regression seen by on-call"])
    done = capsys.readouterr()
    assert code == 0, done.out
    assert f"champion v{old} -> v{previous} (rolled_back)" in done.out
    assert_live_and_complete(world, previous, old)
    last = hist.history(world.registry, MODEL)[-1]
    assert last["event"] == "rollback" and last["reason"] == "latency regression seen by on-call"
    assert "(ml-platform rollback)" in last["by"] and "exported copy" in last["evidence"]["smoke"]
    # the deployment materialization of the rollback states the live version and moved the alias
    record = world.instance.fetch_materializations(world.pipeline.deployment_key, limit=1).records[0]
    meta = record.asset_materialization.metadata  # type: ignore[union-attr]
    assert meta["champion_version"].value == previous and meta["champion_moved"].value is True


def test_history_command_lists_every_move_and_user_errors_are_one_line(world, monkeypatch, capsys):
    from ml_platform.ops.cli import main

    _cli_env(world, monkeypatch)
    assert main(["history", "--spec", "synthetic_demand"]) == 0
    out = capsys.readouterr().out.splitlines()
    entries = hist.history(world.registry, MODEL)
    assert (
        out[0]
        == f"{MODEL}: champion v{champion(world)}, previous_champion v{alias(world, 'previous_champion')}"
    )
    assert len(out) == 1 + len(entries) and "rollback" in out[-1] and "latency regression" in out[-1]
    assert any("smoke" not in line and "deploy v1 -> v2" in line for line in out)
    for argv, words in [
        (["rollback", "--to", "999", "--reason", "x"], f"{MODEL} has no version '999'"),
        (["rollback", "--to", champion(world), "--reason", "x"], "is already the champion"),
        (["history", "--spec", "nope"], "no pipeline named 'nope'"),
    ]:
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert len(captured.out.strip().splitlines()) == 1 and words in captured.out, captured.out
        assert "Traceback" not in captured.out + captured.err


def test_a_training_killed_after_registering_is_cleaned_up_by_the_next_one(world, driver):
    from ml_platform.pipeline.recovery import clean_temp_files, recover_training_leftovers

    client = world.registry.client()
    [killed] = driver.run(
        {"job": "synthetic_demand_train", "op": "synthetic_demand__model",
         "config": {"reason": "killed"}, "fault": "train:after_register"}
    )  # fmt: skip
    assert killed["rc"] == 137
    exp = client.get_experiment_by_name("synthetic_demand")
    [left] = client.search_runs([exp.experiment_id], filter_string="attributes.status = 'RUNNING'")
    orphan = max(client.search_model_versions(f"name = '{MODEL}'"), key=lambda mv: int(mv.version))
    assert orphan.run_id == left.info.run_id and "deploy_gate" not in orphan.tags
    storage = world.env.home / "storage"
    stale, fresh = storage / ".x.parquet.dead.tmp", storage / ".y.parquet.live.tmp"
    stale.write_bytes(b"half"), fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    notes = recover_training_leftovers(world.registry, "synthetic_demand", MODEL, world.instance)
    assert client.get_run(left.info.run_id).info.status == "KILLED"
    tags = world.registry.model_version(MODEL, orphan.version).tags
    assert tags["validation_status"] == "orphaned" and f"pid {killed['pid']}" in tags["orphan_reason"]
    assert any("marked KILLED" in n for n in notes) and any("orphaned" in n for n in notes)
    assert clean_temp_files(storage) == [str(stale)] and fresh.exists()
    # nothing left to do the second time; the live champion was never touched
    assert recover_training_leftovers(world.registry, "synthetic_demand", MODEL, world.instance) == []
    assert champion(world) != orphan.version


def test_a_started_run_whose_worker_was_killed_is_marked_failed(world):
    """The run worker's pid event is written exactly as ``dagster api execute_run`` writes it; the
    worker is a real process killed with SIGKILL."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, EngineEventData

    from ml_platform.pipeline.recovery import fail_dead_runs

    instance = world.instance
    run = instance.create_run_for_job(world.defs.resolve_job_def(JOB), run_config={})
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    instance.report_engine_event(
        f"Started process for run (pid: {worker.pid}).", run, EngineEventData.in_process(worker.pid)
    )
    instance.report_dagster_event(
        DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
        run_id=run.run_id,
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    assert fail_dead_runs(instance) == []  # alive: left alone
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    [note] = fail_dead_runs(instance)
    assert f"pid {worker.pid}" in note and run.run_id in note
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
