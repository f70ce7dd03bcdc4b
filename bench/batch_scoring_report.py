"""docs/batch_scoring.md from docs/batch_scoring.json (bench.batch_scoring): the marked results
sections are replaced, the rest of the page is hand-written; and the Spark-vs-pandas row of
docs/benchmarks.md's summary."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

#: The platform run's parts (bench.batch_scoring_probe buckets), in the order the asset runs them.
PARTS = (
    ("seconds_load_features", "load the range's features (IO manager)"),
    ("seconds_champion_profile", "resolve the alias, read the reference profile"),
    ("seconds_load_model", "load the champion (`mlflow.sklearn.load_model`)"),
    ("seconds_predict", "**score** (`predict_scores`: `predict_proba`)"),
    ("seconds_predictions_frame", "ids, score, version (`predictions_frame`)"),
    ("seconds_score_summaries", "per-day score summaries (metadata)"),
    ("seconds_write_predictions", "write one Parquet file per day (IO manager)"),
    ("seconds_drift_check", "prediction drift check"),
)


def med(values: list[float]) -> float:
    return float(statistics.median(values))


LINES = (
    ("platform: scoring step (`predict_scores`)", "platform", ("seconds_predict",)),
    ("platform: the asset's step (start → success)", "platform", ("seconds_step",)),
    ("platform: the whole run (`execute_in_process`, incl. IO, events, checks)", "platform", ("seconds_run",)),
    ("pyfunc, day by day: `predict` only", "pyfunc_loop", ("seconds_predict",)),
    ("pyfunc, day by day: `load_model` + `predict`", "pyfunc_loop", ("seconds_load", "seconds_predict")),
    ("pyfunc, one `predict` of all rows", "pyfunc_once", ("seconds_predict",)),
    ("pyfunc, `load_model` + one `predict`", "pyfunc_once", ("seconds_load", "seconds_predict")),
)  # fmt: skip


class _Range:
    """One range's points: seconds by (path, keys, round) and per-round ratios."""

    def __init__(self, points: list[dict[str, Any]]) -> None:
        self.by = {(p["path"], p["round"]): p for p in points}
        self.rounds = sorted({p["round"] for p in points})

    def has(self, path: str) -> bool:
        return (path, self.rounds[0]) in self.by

    def sec(self, path: str, keys: tuple[str, ...], r: int) -> float:
        return sum(float(self.by[(path, r)][k]) for k in keys)

    def runs(self, path: str, keys: tuple[str, ...]) -> list[float]:
        return [self.sec(path, keys, r) for r in self.rounds]

    def ratio(self, a: tuple[str, tuple[str, ...]], b: tuple[str, tuple[str, ...]]) -> float:
        return med([self.sec(*a, r) / self.sec(*b, r) for r in self.rounds])  # per round, then the median


def _range_text(name: str, points: list[dict[str, Any]], same: Any, m_: dict[str, Any]) -> str:
    rg = _Range(points)
    rows = points[0]["rows"]
    table = ["| path | median s | rows/s | runs (s) |", "|---|---:|---:|---|"]
    for label, path, keys in LINES:
        if rg.has(path):
            runs = rg.runs(path, keys)
            m = med(runs)
            table.append(f"| {label} | {m:.2f} | {rows / m:,.0f} | {', '.join(f'{x:.2f}' for x in runs)} |")
    run, predict = ("platform", ("seconds_run",)), ("platform", ("seconds_predict",))
    text = (
        "Time ratios, per round then the median (< 1: the platform is faster): platform scoring step / "
        f"pyfunc one-shot `predict` **{rg.ratio(predict, ('pyfunc_once', ('seconds_predict',))):.2f}**; "
        f"whole platform run / pyfunc `load_model` + one-shot `predict` "
        f"{rg.ratio(run, ('pyfunc_once', ('seconds_load', 'seconds_predict'))):.2f}"
    )
    if rg.has("pyfunc_loop"):
        text += (
            "; whole platform run / pyfunc loop incl. its model load "
            f"**{rg.ratio(run, ('pyfunc_loop', ('seconds_load', 'seconds_predict'))):.2f}**; platform scoring "
            f"step / pyfunc day-by-day `predict` {rg.ratio(predict, ('pyfunc_loop', ('seconds_predict',))):.2f}"
        )
    text += f". Scores of the asset (stored Parquet) equal to pyfunc's: {'yes' if same else 'NO'}."
    parts = ["| part of the platform run | median s | share of the run |", "|---|---:|---:|"]
    total = med(rg.runs(*run))
    accounted = 0.0
    for key, label in PARTS:
        m = med(rg.runs("platform", (key,)))
        accounted += m
        parts.append(f"| {label} | {m:.2f} | {m / total:.0%} |")
    rest = total - accounted
    parts.append(
        f"| the rest: run start/end, events, per-day metadata, Dagster | {rest:.2f} | {rest / total:.0%} |"
    )
    return (
        f"### {name}: {rows:,} rows, {len(rg.rounds)} round(s)\n\n"
        f"Run {m_['started']}, load average {m_['load_before']} → {m_['load_after']}: `{m_['command']}`\n\n"
        + "\n".join(table)
        + "\n\n"
        + text
        + "\n\n"
        + "\n".join(parts)
        + "\n"
    )


def _day_runs_text(name: str, points: list[dict[str, Any]], _same: Any, m_: dict[str, Any]) -> str:
    rg = _Range(points)
    rows = points[0]["rows"]
    table = ["| platform, each day its own run | whole runs (median s) | scoring step (median s) | rows/s (runs) |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for path, label in (
        ("platform_per_day", "`predict_scores` as committed (small batches on 1 OpenMP thread)"),
        ("platform_per_day_no_thread_limit", "the same, the limit off (all OpenMP threads)"),
    ):
        if rg.has(path):
            run = med(rg.runs(path, ("seconds_run",)))
            step = med(rg.runs(path, ("seconds_predict",)))
            table.append(f"| {label} | {run:.2f} | {step:.2f} | {rows / run:,.0f} |")
    ratio = ""
    if rg.has("platform_per_day") and rg.has("platform_per_day_no_thread_limit"):
        on, off = (
            ("platform_per_day", ("seconds_run",)),
            ("platform_per_day_no_thread_limit", ("seconds_run",)),
        )
        on_s = ("platform_per_day", ("seconds_predict",))
        off_s = ("platform_per_day_no_thread_limit", ("seconds_predict",))
        ratio = (f"\n\nLimit on / off, per round then the median: whole runs **{rg.ratio(on, off):.2f}**, "
                 f"scoring step {rg.ratio(on_s, off_s):.2f}.")  # fmt: skip
    return (
        f"### {name}: {rows:,} rows, {len(rg.rounds)} round(s)\n\n"
        f"Run {m_['started']}, load average {m_['load_before']} → {m_['load_after']}: `{m_['command']}`\n\n"
        + "\n".join(table)
        + ratio
        + "\n"
    )


def _pandas_section(part: dict[str, Any]) -> str:
    meta, points = part["meta"], part["points"]
    out = []
    for name in dict.fromkeys(p["range"] for p in points):
        pts = [p for p in points if p["range"] == name and "path" in p]
        same = next((p["same"] for p in points if p["range"] == name and "check" in p), None)
        render = _day_runs_text if pts[0]["path"].startswith("platform_per_day") else _range_text
        out.append(render(name, pts, same, part.get("meta_by_range", {}).get(name, meta)))
    return (
        f"Champion `{meta['champion']}`; {meta['machine']['cores']} cores, {meta['machine']['cpu']}, "
        f"shared with other work; Python {meta['machine']['python']}, MLflow {meta['machine']['mlflow']}, "
        f"scikit-learn {meta['machine']['scikit-learn']}.\n\n" + "\n".join(out)
    )


def spark_summary(part: dict[str, Any]) -> dict[str, Any]:
    """Medians per engine of a ``spark_<N>x`` part of the results."""
    out: dict[str, Any] = {}
    for engine in dict.fromkeys(["pandas", "spark", *(p["engine"] for p in part["points"])]):
        pts = [p for p in part["points"] if p["engine"] == engine]
        if not pts:
            continue
        score = med([p["seconds_score"] for p in pts])
        out[engine] = {
            "rows": int(pts[0]["rows"]),
            "runs": len(pts),
            "score": score,
            "score_runs": [p["seconds_score"] for p in pts],
            "rows_per_s": pts[0]["rows"] / score,
            "load_model": med([p["seconds_load_model"] for p in pts]),
            "session": med([p.get("seconds_session", 0.0) for p in pts]),
            "wall": med([p["wall"] for p in pts]),
            "peak_tree": max(p["peak_rss_gb"] for p in pts),
            "driver": max(p["driver_peak_rss_gb"] for p in pts),
            "jvm": max(p.get("jvm_peak_rss_gb", 0.0) for p in pts),
            "workers": max(p.get("python_workers_peak_rss_gb", 0.0) for p in pts),
            "checksum": pts[0]["checksum"],
        }
    return out


def _spark_section(stored: dict[str, Any]) -> str:
    keys = sorted((k for k in stored if k.startswith("spark_")), key=lambda k: int(k[6:-1]))
    table = [
        "| scale | rows | engine | score: read + predict + write (median s) | rows/s | Spark / pandas | "
        "load model, incl. lazy imports (s) | session (s) | process wall (s) | peak RSS, process tree | Python driver | JVM | "
        "UDF workers | same scores |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    notes = []
    for key in keys:
        s = spark_summary(stored[key])
        meta = stored[key]["meta"]
        base = s.get("pandas") or s.get("pandas-files")  # at 30×: pandas one file (a 1× copy) at a time
        for engine, e in s.items():
            ratio, same = "", "—"
            if base is not None and not engine.startswith("pandas"):
                ratio = f"{e['score'] / base['score']:.2f}"
                same = "yes" if abs(base["checksum"] - e["checksum"]) < 1e-6 * base["rows"] else "NO"
            table.append(
                f"| {int(key[6:-1])}× | {e['rows'] / 1e6:.2f} M | {engine} | {e['score']:.1f} "
                f"({', '.join(f'{x:.1f}' for x in e['score_runs'])}) | {e['rows_per_s']:,.0f} | {ratio} | "
                f"{e['load_model']:.1f} | {e['session']:.1f} | {e['wall']:.1f} | {e['peak_tree']:.2f} GB | "
                f"{e['driver']:.2f} GB | {e['jvm']:.2f} GB | {e['workers']:.2f} GB | {same} |"
            )
        for extra in ("meta_omp_run",):
            if extra in stored[key]:
                m = stored[key][extra]
                notes.append(f"- {int(key[6:-1])}×, the OMP_NUM_THREADS=1 run: {m['started']}, load average "
                             f"{m['load_before']} → {m['load_after']}: `{m['command']}`")  # fmt: skip
        notes.append(f"- {int(key[6:-1])}×: run {meta['started']}, load average {meta['load_before']} → {meta['load_after']}; "
                     f"features {stored[key]['features']['rows']:,} rows × {stored[key]['features']['columns']} "
                     f"columns in {stored[key]['features']['files']} Parquet file(s), "
                     f"{stored[key]['features']['bytes'] / 1e6:.0f} MB: `{meta['command']}`")  # fmt: skip
    attempts = stored.get("attempts_30x")
    if attempts:
        notes.append(
            f"- 30×, an earlier attempt under heavy load ({attempts['features']['rows']:,} rows, "
            f"{attempts['features']['bytes'] / 1e9:.2f} GB of Parquet): pandas one-shot: "
            f"{attempts['pandas_one_shot']}. Spark: {attempts['spark']}."
        )
    return "\n".join(table) + "\n\n" + "\n".join(notes) + "\n"


def summary_rows(json_path: Path) -> list[str]:
    """The row(s) of docs/benchmarks.md's summary (empty if the bench has not been run)."""
    if not json_path.exists():
        return []
    stored = json.loads(json_path.read_text())
    rows = []
    key = max((k for k in stored if k.startswith("spark_")), key=lambda k: int(k[6:-1]), default=None)
    if key is not None:
        s = spark_summary(stored[key])
        spark = next((e for e in s if e.startswith("spark")), None)
        if spark is not None:
            pandas = "pandas" if "pandas" in s else "pandas-files"
            sp, pd_ = s[spark], s.get(pandas)
            versus = (
                f"{pandas} **{pd_['score']:.0f} s** ({pd_['rows_per_s']:,.0f} rows/s, peak {pd_['peak_tree']:.1f} GB): "
                f"{sp['score'] / pd_['score']:.2f}×"
                if pd_
                else "pandas not measured at this scale (see the page)"
            )
            rows.append(
                f"| batch scoring, Spark UDF vs pandas, at {int(key[6:-1])}× ({sp['rows'] / 1e6:.1f} M rows, {spark}; "
                f"[batch_scoring.md](batch_scoring.md)) | report both | Spark **{sp['score']:.0f} s** "
                f"({sp['rows_per_s']:,.0f} rows/s, peak {sp['peak_tree']:.1f} GB, Python driver "
                f"{sp['driver']:.2f} GB) vs {versus} |"
            )
    return rows


MARKS = {
    "pandas": ("<!-- bench/batch_scoring.py pandas: results start -->", "<!-- bench/batch_scoring.py pandas: results end -->"),
    "spark": ("<!-- bench/batch_scoring.py spark: results start -->", "<!-- bench/batch_scoring.py spark: results end -->"),
}  # fmt: skip


def write_report(path: Path, stored: dict[str, Any]) -> None:
    page = path.read_text() if path.exists() else "\n\n".join(f"{a}\n{b}" for a, b in MARKS.values()) + "\n"
    texts = {}
    if "pandas" in stored:
        texts["pandas"] = _pandas_section(stored["pandas"])
    if any(k.startswith("spark_") for k in stored):
        texts["spark"] = _spark_section(stored)
    for name, text in texts.items():
        start, end = MARKS[name]
        if start not in page:
            page += f"\n{start}\n{end}\n"
        head, rest = page.split(start, 1)
        page = f"{head}{start}\n{text}{end}{rest.split(end, 1)[1]}"
    path.write_text(page)


def update_benchmarks_summary(docs: Path) -> None:
    """docs/benchmarks.md rendered again from its JSON with this bench's summary row(s)."""
    from bench.report import render

    results_path = docs / "benchmarks.json"
    if results_path.exists():
        results = json.loads(results_path.read_text())
        page = render(results, "", summary_rows(docs / "batch_scoring.json"))
        (docs / "benchmarks.md").write_text(page)
