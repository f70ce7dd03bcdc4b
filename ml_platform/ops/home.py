"""The local Dagster home the CLI uses when ``DAGSTER_HOME`` is not set: the one ``make`` uses,
``$ML_PLATFORM_HOME/dagster_home`` (default ``./.ml_platform/dagster_home``), with the same
``dagster.yaml`` (the root one plus the local storage settings)."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

# What `make` writes when the repo's own files are not at hand (e.g. an installed package).
_FALLBACK_YAML = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - key: "ml_platform/deploy"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
telemetry:
  enabled: false
storage:
  custom:
    module: ml_platform.integrations.instance_storage
    class: LocalSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
"""


def ensure_dagster_home(environ: MutableMapping[str, str], cwd: Path) -> Path:
    """``DAGSTER_HOME`` if set; else the project's local home, created (and put into ``environ``)."""
    if environ.get("DAGSTER_HOME"):
        return Path(environ["DAGSTER_HOME"])
    ml_home = Path(environ.get("ML_PLATFORM_HOME") or cwd / ".ml_platform")
    home = (ml_home if ml_home.is_absolute() else cwd / ml_home) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        root, local = cwd / "dagster.yaml", cwd / "deploy" / "local" / "dagster_storage.yaml"
        text = root.read_text() + local.read_text() if root.exists() and local.exists() else _FALLBACK_YAML
        config.write_text(text)
    environ["DAGSTER_HOME"] = str(home)
    return home
