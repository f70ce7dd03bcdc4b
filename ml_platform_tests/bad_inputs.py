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


def _conflict(frame: pd.DataFrame) -> pd.DataFrame:
    """The first row delivered twice: once as is, once with another price (same primary key)."""
    return pd.concat([frame, frame.head(1).assign(price=frame["price"].iloc[0] + 1)], ignore_index=True)


def _times(n: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """``n`` copies of the day, each store renamed: ``n`` times the usual rows, every key unique."""
    return lambda f: pd.concat([f.assign(store=f["store"] + f"_{i}") for i in range(n)], ignore_index=True)


def _truncate(data: bytes) -> bytes:
    """Cut off half way, inside the first field of a row (a writer stopped mid-line)."""
    return data[: data.index(b"\n", len(data) // 2) + 2]


def _raw_edit(fn: Callable[[str], str]) -> Callable[[bytes], bytes]:
    return lambda data: fn(data.decode()).encode()


def _repeat_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join([*lines[:3], lines[0], *lines[3:]])


# name → (how to break the file, what must be seen):
#   "error: <text>"       the run fails with <text>, naming the day (and the file)
#   "quarantine: <text>"  rows quarantined with <text>; the quarantine check fails, nothing published
#   "check: <name>"       cleaning passes but the blocking data check <name> fails, nothing published
#   "tolerated: <text>"   one row quarantined with <text>, within the share: the rest is published
#   "extra: <column>" / "ok: "  harmless: cleaned and passed on
CORPUS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    # the file as a whole
    "missing_column": (
        _edit(lambda f: f.drop(columns=["price"])),
        "error: missing required column(s) ['price']",
    ),
    "renamed_column": (
        _edit(lambda f: f.rename(columns={"price": "Price"})),
        "error: missing required column(s) ['price']",
    ),
    "semicolon_delimited": (_raw_edit(lambda t: t.replace(",", ";")), "error: missing required column(s)"),
    "empty_day": (lambda data: data.splitlines(keepends=True)[0], "error: empty delivery (0 rows)"),
    "zero_byte_file": (lambda data: b"", "error: empty file"),
    "non_utf8_bytes": (lambda data: data.replace(b"s1", b"s\xff\xfe1"), "error: cannot read"),
    "binary_garbage": (lambda data: bytes(range(256)) * 4, "error: cannot read"),
    # harmless variations
    "extra_column": (_edit(lambda f: f.assign(mystery=1)), "extra: mystery"),
    "reordered_columns": (_edit(lambda f: f[f.columns[::-1]]), "ok: "),
    "crlf_line_endings": (lambda data: data.replace(b"\n", b"\r\n"), "ok: "),
    "trailing_blank_lines": (lambda data: data + b"\n\n\n", "ok: "),
    "ints_as_1e0": (_raw_edit(lambda t: t.replace(",0,", ",0e0,").replace(",1,", ",1e0,")), "ok: "),
    "some_targets_missing": (_edit(_set("units", None, rows=2)), "ok: "),
    # bad values in some rows
    "wrong_types": (_edit(_set("price", "cheap", rows=8)), "quarantine: price: not a valid float"),
    "decimal_comma": (_edit(_set("price", "1,5", rows=8)), "quarantine: price: not a valid float"),
    "float_in_int_column": (_edit(_set("promo", 0.5, rows=8)), "quarantine: promo: not a valid int"),
    "word_in_int_column": (_edit(_set("promo", "yes", rows=8)), "quarantine: promo: not a valid int"),
    "out_of_range": (_edit(_set("promo", 7, rows=8)), "quarantine: promo: fails <="),
    "negative_price": (_edit(_set("price", -1.0, rows=8)), "quarantine: price: fails >="),
    "int_overflow_1e20": (_edit(_set("promo", 1e20, rows=8)), "quarantine: promo: out of int64 range"),
    "int_overflow_literal": (
        _edit(_set("promo", "99999999999999999999", rows=8)),
        "quarantine: promo: out of int64 range",
    ),
    "positive_infinity": (
        _edit(_set("price", float("inf"), rows=8)),
        "quarantine: price: not a finite number",
    ),
    "negative_infinity_target": (
        _edit(_set("units", float("-inf"), rows=8)),
        "quarantine: units: not a finite number",
    ),
    "infinity_spelled_out": (
        _edit(_set("price", "Infinity", rows=8)),
        "quarantine: price: not a finite number",
    ),
    "nulls_in_required": (_edit(_set("store", None, rows=8)), "quarantine: store: required value is missing"),
    "nan_text_in_required": (
        _edit(_set("price", "NaN", rows=8)),
        "quarantine: price: required value is missing",
    ),
    "truncated_file": (_truncate, "quarantine: required value is missing"),
    "repeated_header_row": (_raw_edit(_repeat_header), "tolerated: year: not a valid int"),
    "another_days_data": (_edit(_next_day), "quarantine: year/month/day: not the partition's day"),
    "far_future_year": (
        _edit(_set("year", 2100, rows=8)),
        "quarantine: year/month/day: not the partition's day",
    ),
    "impossible_date": (_edit(_set("day", 32, rows=8)), "quarantine: year/month/day: not a valid date"),
    "whole_day_bad": (_edit(_set("price", "x", rows=10_000)), "quarantine: price: not a valid float"),
    # duplicates
    "duplicated_rows": (_edit(lambda f: pd.concat([f, f], ignore_index=True)), "quarantine: duplicate row"),
    "one_row_twice": (
        _edit(lambda f: pd.concat([f, f.head(2)], ignore_index=True)),
        "quarantine: duplicate row",
    ),
    "conflicting_duplicate_key": (_edit(_conflict), "quarantine: conflicting duplicate key"),
    # volume and target, against the previous days
    "one_row_only": (_edit(lambda f: f.head(1)), "check: volume"),
    "thousand_times_the_rows": (_edit(_times(1000)), "check: volume"),
    "all_targets_missing": (_edit(_set("units", None, rows=10_000)), "check: missing_target"),
    "target_scaled_100x": (_edit(lambda f: f.assign(units=f["units"] * 100)), "check: target_distribution"),
    "target_negated": (_edit(lambda f: f.assign(units=-f["units"])), "check: target_distribution"),
}
