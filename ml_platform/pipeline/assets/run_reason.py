"""Why a run trained a model, from its config and the tags Dagster puts on every run."""

from __future__ import annotations

from collections.abc import Mapping

SCHEDULE_TAG = "dagster/schedule_name"
SENSOR_TAG = "dagster/sensor_name"
BACKFILL_TAG = "dagster/backfill"


def training_reason(configured: str | None, tags: Mapping[str, str]) -> str:
    """The configured reason if any (the retrain sensor writes one, so can a user), else what
    launched the run: a schedule, a sensor, a backfill or a person (Launchpad / Materialize / CLI)."""
    how: str
    if SCHEDULE_TAG in tags:
        how = f"scheduled retrain (schedule {tags[SCHEDULE_TAG]})"
    elif SENSOR_TAG in tags:
        how = f"sensor {tags[SENSOR_TAG]}"
    elif BACKFILL_TAG in tags:
        how = f"manual: backfill {tags[BACKFILL_TAG]} launched from the UI/CLI"
    else:
        how = "manual: launched from the UI/CLI"
    if configured and configured.strip():
        return configured.strip() if how.startswith("manual") else f"{configured.strip()} ({how})"
    return how
