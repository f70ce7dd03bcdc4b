"""Online endpoint latency and throughput: ``ml-platform serve`` side by side with ``mlflow models
serve`` on the same registered model, in one run, interleaved.

The model is the flights_delay pipeline (the spec's estimator) trained on real January 2013 features
and logged by the platform's own registry code; requests are single rows from the last January
days. For each client count (1, 8, 32) and round, each server gets ``--seconds`` of closed-loop load
(each client sends its next request when the answer arrives), the order alternating per round.
Both servers run one uvicorn worker. Results replace the marked section of docs/serving.md; stdout gets them as JSON.

    python -m bench.serving [--seconds 5] [--rounds 2] [--clients 1 8 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from flights_delay import SPEC_DIR
from flights_delay.source import Nycflights13Source

from bench.common import read_clean
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features, labelled
from ml_platform.ml.model_factory import pipeline_for
from ml_platform.specs import load_spec

ROOT = Path(__file__).resolve().parents[1]
MODEL = "flights_delay"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def train_and_register(tracking_uri: str, artifacts: Path) -> list[dict[str, Any]]:
    """The spec's model on Jan 1–24 registered as champion; the Jan 25–31 rows as JSON records."""
    spec = load_spec(SPEC_DIR / "flights_delay.yaml")
    cleaned = read_clean(
        spec,
        Nycflights13Source(),
        dt.date(2013, 1, 1),
        dt.date(2013, 1, 31),
        [spec.main_table, *spec.auxiliary_tables],
    )
    main = cleaned.pop(spec.main_table.name)
    features = labelled(spec, build_features(spec, main, cleaned))
    days = sorted(features[PARTITION_COLUMN].unique())
    train = features[features[PARTITION_COLUMN].isin(days[:24])]
    serve = features[features[PARTITION_COLUMN].isin(days[24:])]
    cols = spec.features.model_columns
    model = pipeline_for(spec).fit(train[cols], train[spec.target.name])
    registry = MlflowRegistry(tracking_uri=tracking_uri, artifact_root=str(artifacts))
    logged = registry.log_trained_model(
        experiment="bench_serving",
        model_name=MODEL,
        model=model,
        task=spec.task,
        params=spec.estimator.params,
        metrics={},
        tags={"bench": "serving"},
        train_frame=train[[*cols, spec.target.name]],
        target=spec.target.name,
        input_example=train[cols].head(5),
    )
    registry.set_alias(MODEL, "champion", logged["version"])
    records = json.loads(serve[cols].to_json(orient="records"))  # NaN → null, numpy → JSON
    return list(records)


@contextmanager
def server(command: list[str], health: str, port: int, log: Path, env: dict[str, str]) -> Iterator[None]:
    """A server in its own process group (``mlflow models serve`` starts uvicorn as a child),
    healthy before yielding, stopped by its group id afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[:3]} exited: {log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", health)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[:3]} not healthy: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield
    finally:
        with suppress(ProcessLookupError):  # the group is gone already if the server died
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def load(port: int, path: str, bodies: list[bytes], clients: int, seconds: float) -> dict[str, float]:
    """Closed-loop load: ``clients`` threads, each on its own keep-alive connection."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        start.wait()
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                status, _ = post(conn, path, bodies[i % len(bodies)])
            except OSError:
                status = 0
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            latencies[n].append(time.perf_counter() - t0)
            errors[n] += status != 200
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    t_start = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    flat = np.array([x for per in latencies for x in per]) * 1000
    return {
        "requests": float(len(flat)),
        "errors": float(sum(errors)),
        "throughput_rps": len(flat) / elapsed,
        "p50_ms": float(np.percentile(flat, 50)),
        "p99_ms": float(np.percentile(flat, 99)),
    }


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **{name: version(name) for name in ("mlflow", "fastapi", "uvicorn", "scikit-learn")},
    }


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    rows = []
    for clients in meta["clients"]:
        for name in ("ml-platform serve", "mlflow models serve"):
            points = [r for r in results if r["server"] == name and r["clients"] == clients]
            requests = sum(p["requests"] for p in points)
            errors = sum(p["errors"] for p in points)
            rps = np.median([p["throughput_rps"] for p in points])
            p50 = np.median([p["p50_ms"] for p in points])
            p99 = max(p["p99_ms"] for p in points)
            rows.append(
                f"| {clients} | {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {requests:.0f} | {errors:.0f} |"
            )
    table = "\n".join(rows)
    return f"""## Latency and throughput: `ml-platform serve` vs `mlflow models serve`

Same registered model (`models:/{MODEL}@champion`: the flights_delay spec's
HistGradientBoosting pipeline trained on real features of 1–24 Jan 2013, logged by the platform's
registry code, skops format), single-row requests drawn from 25–31 Jan, closed-loop clients
(each sends its next request when the answer arrives), one uvicorn worker per server, both servers
running for the whole run, warmed up for 1 s, and measured in turn ({meta["rounds"]} rounds × {meta["seconds"]:.0f} s per point,
order alternating by round). Throughput and p50 are medians over rounds, p99 the worst round.

| clients | server | throughput (req/s) | p50 (ms) | p99 (ms) | requests | errors |
|---:|---|---:|---:|---:|---:|---:|
{table}

What each answer includes: `ml-platform serve` checks every field against the signature (a 4xx
naming the field, never a 500), then `pyfunc.predict` (MLflow's own schema enforcement again), and
appends the request and its predictions to the day's prediction log with `os.fsync` *before*
answering; `mlflow models serve` runs `pyfunc.predict` and logs nothing. Answers of the two were
compared on {meta["compared_rows"]} rows before the run: {meta["answers_equal"]}.

Machine: {meta["machine"]["cpu"]}, {meta["machine"]["cores"]} cores shared with other work (load average
{meta["machine"]["load_average"]} at the start, {meta["load_after"]} at the end); Python
{meta["machine"]["python"]}, MLflow {meta["machine"]["mlflow"]}, FastAPI {meta["machine"]["fastapi"]},
uvicorn {meta["machine"]["uvicorn"]}, scikit-learn {meta["machine"]["scikit-learn"]}. The load generator
(Python threads, `http.client`, keep-alive) runs on the same cores, so the figures at 32 clients are
bounded by the machine as much as by either server; the comparison is what holds. Run on {meta["date"]}:

    {meta["command"]}
"""


START, END = "<!-- bench/serving.py: results start -->", "<!-- bench/serving.py: results end -->"


def write_section(path: Path, text: str) -> None:
    """Replace the results between the markers of ``path`` (the rest of the page is hand-written),
    or write a page of results alone."""
    page = path.read_text() if path.exists() else ""
    if START in page and END in page:
        head, rest = page.split(START, 1)
        page = f"{head}{START}\n{text}{END}{rest.split(END, 1)[1]}"
    else:
        page = f"{START}\n{text}{END}\n"
    path.write_text(page)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="load per point (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--out", default=str(ROOT / "docs" / "serving.md"))
    args = parser.parse_args()
    meta: dict[str, Any] = {
        "machine": machine(),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "clients": args.clients,
        "date": dt.date.today().isoformat(),
        "command": "python -m bench.serving " + " ".join(sys.argv[1:]),
    }
    home = Path(tempfile.mkdtemp(prefix="mlp-bench-serving-"))
    try:
        tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
        records = train_and_register(tracking_uri, home / "artifacts")
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_ENABLE_TELEMETRY": "false",
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            "PYTHONPATH": str(ROOT),
            "BENCH_CWD": str(home / "cwd"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # its uvicorn
        }
        ours, theirs = free_port(), free_port()
        ours_cmd = [
            sys.executable,
            "-m",
            "ml_platform.serving.server",
            "--model-name",
            MODEL,
            "--tracking-uri",
            tracking_uri,
            "--log-dir",
            str(home / "prediction_log"),
            "--port",
            str(ours),
        ]
        mlflow_cmd = [
            str(Path(sys.executable).parent / "mlflow"),
            "models",
            "serve",
            "-m",
            f"models:/{MODEL}@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(theirs),
        ]
        targets = {
            "ml-platform serve": (ours, "/predict", [json.dumps({"rows": [r]}).encode() for r in records]),
            "mlflow models serve": (
                theirs,
                "/invocations",
                [json.dumps({"dataframe_records": [r]}).encode() for r in records],
            ),
        }
        (home / "cwd").mkdir()
        with (
            server(ours_cmd, "/health", ours, home / "ours.log", env),
            server(mlflow_cmd, "/ping", theirs, home / "mlflow.log", env),
        ):
            compared = records[:50]
            a = json.loads(
                post(
                    http.client.HTTPConnection("127.0.0.1", ours),
                    "/predict",
                    json.dumps({"rows": compared}).encode(),
                )[1]
            )["predictions"]
            b = json.loads(
                post(
                    http.client.HTTPConnection("127.0.0.1", theirs),
                    "/invocations",
                    json.dumps({"dataframe_records": compared}).encode(),
                )[1]
            )["predictions"]
            meta["compared_rows"] = len(compared)
            meta["answers_equal"] = "equal" if np.allclose(a, b, rtol=1e-12, atol=0) else "DIFFERENT"
            for port, path, bodies in targets.values():  # warm-up (first requests import lazily)
                load(port, path, bodies, 2, 1.0)
            results = []
            for clients in args.clients:
                for round_ in range(args.rounds):
                    order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
                    for name in order:
                        port, path, bodies = targets[name]
                        point = {
                            "server": name,
                            "clients": clients,
                            "round": round_,
                            **load(port, path, bodies, clients, args.seconds),
                        }
                        print(json.dumps(point), flush=True)
                        results.append(point)
                        assert math.isfinite(point["p99_ms"])
        meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
        write_section(Path(args.out), markdown(results, meta))
        print(json.dumps({"meta": meta, "results": results}))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
