"""The Dagster side of a pipeline: names, assets, checks, sensors, jobs and schedules built from a
spec, and ``build.py``, which puts them together. Empty on purpose: nothing imports back up."""
