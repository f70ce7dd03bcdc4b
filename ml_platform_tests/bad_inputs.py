"""The corpus of bad deliveries: each entry turns one good day's file (CSV bytes) into a bad one."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data))


def _edit(fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[bytes], bytes]:
    return lambda data: _csv(fn(_frame(data)))


def _set(column: str, value: object, rows: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def fn(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object})
        frame.loc[: rows - 1, column] = value
        return frame

    return fn


def _next_day(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(day=frame["day"] + 1)


# name → (how to break the file, what must be seen: "error: <text>" or "quarantine: <reason text>")
CORPUS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "missing_column": (
        _edit(lambda f: f.drop(columns=["price"])),
        "error: missing required column(s) ['price']",
    ),
    "extra_column": (_edit(lambda f: f.assign(mystery=1)), "extra: mystery"),
    "wrong_types": (_edit(_set("price", "cheap", rows=8)), "quarantine: price: not a valid float"),
    "empty_day": (lambda data: data.splitlines(keepends=True)[0], "error: empty delivery (0 rows)"),
    "duplicated_rows": (_edit(lambda f: pd.concat([f, f], ignore_index=True)), "duplicates: 8"),
    "out_of_range": (_edit(_set("promo", 7, rows=8)), "quarantine: promo: fails <="),
    "nulls_in_required": (_edit(_set("store", None, rows=8)), "quarantine: store: required value is missing"),
    "truncated_file": (lambda data: data[: len(data) // 2], "quarantine: required value is missing"),
    "non_utf8_bytes": (lambda data: data.replace(b"s1", b"s\xff\xfe1"), "error: cannot read"),
    "another_days_data": (_edit(_next_day), "quarantine: year/month/day: not the partition's day"),
}
