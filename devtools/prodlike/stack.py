"""The production-like stack on one machine: Postgres databases on the local PostgreSQL, a moto S3
server, ``mlflow server`` (Postgres backend, S3 artifacts), ``dagster-webserver`` and
``dagster-daemon`` on a Postgres instance (deploy/dagster.yaml without the K8sRunLauncher).

Every process is started in its own session with default INT/TERM handling, bound to 127.0.0.1
on a free port, with a PID file under ``<state dir>/pids``; stopping signals exactly those process
groups (after checking the PID still runs the recorded program) and nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BUCKET = "ml-platform"
AWS = {"AWS_ACCESS_KEY_ID": "prodlike", "AWS_SECRET_ACCESS_KEY": "prodlike", "AWS_REGION": "us-east-1"}
SERVICES = ("moto", "mlflow", "webserver", "daemon", "serve")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StackState:
    """Everything ``down`` needs, written to ``<state dir>/state.json``."""

    state_dir: str
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    dagster_db: str = ""
    mlflow_db: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    engine: str = "spark"
    train_executor: str = "multiprocess"  # no cluster: steps as local processes
    serve_token: str = ""  # the endpoint's bearer token (this stack's own, in its state file)

    @property
    def dir(self) -> Path:
        return Path(self.state_dir)

    @property
    def dagster_home(self) -> Path:
        return self.dir / "dagster_home"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def pg_url(self, db: str) -> str:
        return f"postgresql+psycopg2://{self.pg_user}@{self.pg_host}:{self.pg_port}/{db}"

    def save(self) -> None:
        (self.dir / "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> StackState | None:
        path = state_dir / "state.json"
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def env(self) -> dict[str, str]:
        """Environment of the Dagster processes: production environment on the local parts."""
        return {
            **os.environ,
            **AWS,
            "DAGSTER_HOME": str(self.dagster_home),
            "DAGSTER_PG_HOST": self.pg_host,
            "DAGSTER_PG_PORT": str(self.pg_port),
            "DAGSTER_PG_DB": self.dagster_db,
            "DAGSTER_PG_USERNAME": self.pg_user,
            "DAGSTER_PG_PASSWORD": os.environ.get("PGPASSWORD", "unused-trust-auth"),
            "ML_PLATFORM_ENV": "production",
            "ML_PLATFORM_HOME": str(self.dir / "home"),
            "ML_PLATFORM_SPEC_DIR": str(self.dir / "specs"),
            "MLFLOW_TRACKING_URI": self.url("mlflow"),
            "ML_PLATFORM_DEPLOY_LOCK_URL": self.pg_url(self.dagster_db),
            "ML_PLATFORM_MLFLOW_UI_URL": self.url("mlflow"),
            "ML_PLATFORM_DAGSTER_UI_URL": self.url("webserver"),
            "ML_PLATFORM_S3_BUCKET": BUCKET,
            "ML_PLATFORM_S3_ENDPOINT_URL": self.url("moto"),
            "ML_PLATFORM_FEATURE_ENGINE": self.engine,
            "ML_PLATFORM_TRAIN_EXECUTOR": self.train_executor,
            "ML_PLATFORM_SCHEDULES": "off",
            "SPARK_LOCAL_IP": "127.0.0.1",
            "MLFLOW_ENABLE_TELEMETRY": "false",
            "DO_NOT_TRACK": "true",
        }


# -- Postgres ------------------------------------------------------------------------------------
def _admin(state: StackState, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(
        host=state.pg_host, port=state.pg_port, user=state.pg_user, dbname="postgres", connect_timeout=5
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_databases(state: StackState) -> None:
    suffix = uuid.uuid4().hex[:8]
    state.dagster_db, state.mlflow_db = f"mlp_prodlike_dagster_{suffix}", f"mlp_prodlike_mlflow_{suffix}"
    for db in (state.dagster_db, state.mlflow_db):
        _admin(state, f'CREATE DATABASE "{db}"')


def drop_databases(state: StackState) -> None:
    for db in (state.dagster_db, state.mlflow_db):
        if db.startswith("mlp_prodlike_"):  # only what this stack created
            _admin(state, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# -- processes -----------------------------------------------------------------------------------
def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def command(state: StackState, service: str) -> list[str]:
    port = str(state.ports.get(service, 0))
    if service == "moto":
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port]
    if service == "mlflow":
        return [
            *(_bin("mlflow"), "server", "--host", "127.0.0.1", "--port", port, "--workers", "1"),
            *("--backend-store-uri", state.pg_url(state.mlflow_db)),
            *("--artifacts-destination", f"s3://{BUCKET}/mlartifacts"),
        ]
    if service == "serve":
        return [
            *(_bin("ml-platform"), "serve", "--host", "127.0.0.1", "--port", port),
            *("--token-env", "ML_PLATFORM_SERVE_TOKEN", "--poll-seconds", "2"),
        ]
    workspace = str(REPO / "workspace.yaml")
    if service == "webserver":
        return [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", port, "-w", workspace]
    return [_bin("dagster-daemon"), "run", "-w", workspace]


def _env_for(state: StackState, service: str) -> dict[str, str]:
    env = state.env()
    if service == "mlflow":
        env["MLFLOW_S3_ENDPOINT_URL"] = state.url("moto")
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no server-side jobs (GenAI scorers) here
    if service == "serve":
        env["ML_PLATFORM_SERVE_TOKEN"] = state.serve_token
    return env


def _restore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pid_file(state: StackState, service: str) -> Path:
    return state.dir / "pids" / f"{service}.pid"


def log_file(state: StackState, service: str) -> Path:
    return state.dir / "logs" / f"{service}.log"


def start(state: StackState, service: str) -> int:
    (state.dir / "pids").mkdir(parents=True, exist_ok=True)
    (state.dir / "logs").mkdir(parents=True, exist_ok=True)
    with log_file(state, service).open("ab") as log:
        proc = subprocess.Popen(
            command(state, service),
            env=_env_for(state, service),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_restore_signals,
        )
    pid_file(state, service).write_text(f"{proc.pid}\n")
    return proc.pid


MARKERS = {
    "moto": "moto.server",
    "mlflow": "mlflow",
    "webserver": "dagster-webserver",
    "daemon": "dagster-daemon",
    "serve": "ml-platform",
}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _ours(pid: int, service: str, state: StackState) -> bool:
    """The PID still runs the program we started (PIDs get reused)."""
    cmdline = _cmdline(pid)
    port = state.ports.get(service)
    return MARKERS[service] in cmdline and (port is None or str(port) in cmdline)


def stop(state: StackState, service: str, timeout: float = 20.0) -> bool:
    """Stop one service's process group by its recorded PID; True if something was stopped."""
    path = pid_file(state, service)
    if not path.exists():
        return False
    pid = int(path.read_text().strip())
    stopped = False
    if _ours(pid, service, state):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.2)
        if _group_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        stopped = True
    path.unlink(missing_ok=True)
    return stopped


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process in the group; our own zombie children are reaped."""
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def running(state: StackState, service: str) -> bool:
    path = pid_file(state, service)
    return path.exists() and _ours(int(path.read_text().strip()), service, state)


def wait_http(url: str, timeout: float, service: str, state: StackState) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(state, service):
            raise RuntimeError(f"{service} exited during startup; see {log_file(state, service)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(
        f"{service} did not answer at {url} within {timeout:.0f}s; see {log_file(state, service)}"
    )


# -- configuration -------------------------------------------------------------------------------
def write_instance_yaml(state: StackState) -> Path:
    """deploy/dagster.yaml with the run launcher removed (no cluster: runs are local processes)."""
    config = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    config.pop("run_launcher")
    config.pop("run_monitoring", None)  # resuming crashed run workers needs a cluster launcher
    config["run_coordinator"]["config"]["max_concurrent_runs"] = 2  # 2 cores here
    state.dagster_home.mkdir(parents=True, exist_ok=True)
    target = state.dagster_home / "dagster.yaml"
    target.write_text(
        "# Generated by devtools.prodlike from deploy/dagster.yaml (run_launcher removed).\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return target


def create_bucket(state: StackState) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=state.url("moto"),
        aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=AWS["AWS_REGION"],
    )
    client.create_bucket(Bucket=BUCKET)
