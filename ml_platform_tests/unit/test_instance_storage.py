"""The local Dagster storage class (real SQLite files in tmp_path): loads from a dagster.yaml the way
`make` writes it, keeps Dagster's layout, and commits with synchronous=NORMAL under DAGSTER_HOME only."""

from pathlib import Path

import dagster as dg
import sqlalchemy as sa

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
