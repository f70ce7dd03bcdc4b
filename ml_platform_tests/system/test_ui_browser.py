"""The two UIs as people use them, in a real browser: Debian's Chromium driven by Playwright (no
browser download) against `scripts/dev.sh` (what `make dev` runs: `dagster dev` with its daemon, and an
`mlflow server` on SQLite) on free local ports, with temporary Dagster and ML platform homes and a
four-week flights spec (`ML_PLATFORM_SPEC_DIR`).

Flows: materialize everything from the asset graph ("Materialize all…", partition dialog, backfill)
until it succeeds; the evaluation report's embedded plots and its `deploy_gate` result; the link to
MLflow, the `champion` alias, the model card and the run's metrics, and the link back to Dagster; the
data assets' row counts and pandera schema; one Ctrl-C stopping both servers.

Every step saves a screenshot under `test-artifacts/ui/` (a failing step saves `*_FAILED.png`); the
servers' output is in `test-artifacts/ui/servers.log`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flights_delay import SPEC_DIR

from ml_platform.specs import load_spec
from ml_platform_tests.helpers import write_spec

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Four weeks of flights: 21 training days, a 7-day holdout; small and quick, still a real model.
UI_SPEC_OVERRIDES = {
    "partitioning": {"start": "2013-01-01", "end": "2013-01-28"},
    "training": {"window_partitions": 21, "holdout_partitions": 7},
    "estimator": {"params": {"max_iter": 60, "learning_rate": 0.1, "random_state": 0}},
    "evaluation": {"bootstrap_samples": 20},
    # min_improvement 0: a retrain with v1's settings (same AUC) passes, so a test can move the alias
    "gate": {"min_value": 0.6, "min_improvement": 0.0},
}
BACKFILL_TIMEOUT = 900  # seconds; about 150 on an idle machine, 240 at load 10, 690 at load 35


def _require_browser() -> None:
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} missing (apt-get install -y --no-install-recommends chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return int(response.status) == 200
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _restore_signals() -> None:
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    dagster: str
    mlflow: str
    dagster_port: int
    mlflow_port: int
    log: Path
    serve_port: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def graphql(self, query: str, variables: dict) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.dagster}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read())["data"])

    def stop(self, timeout: float = 90) -> bool:
        """Ctrl-C as a terminal sends it (SIGINT to the whole group); True if everything exited."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _group_gone(self.process.pid):
            time.sleep(0.5)
        return self.process.poll() is not None and _group_gone(self.process.pid)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _require_browser()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    tmp = tmp_path_factory.mktemp("ui")
    spec_dir = tmp / "specs"
    write_spec(load_spec(SPEC_DIR / "flights_delay.yaml", UI_SPEC_OVERRIDES), spec_dir)
    dagster_port, mlflow_port, serve_port = _free_port(), _free_port(), _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        # this checkout's dataset package too, not the one an editable install points at
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "datasets" / "flights_delay")]),
        "ML_PLATFORM_HOME": str(tmp / "home"),
        "DAGSTER_HOME": str(tmp / "home" / "dagster_home"),
        "ML_PLATFORM_SPEC_DIR": str(spec_dir),
        "DAGSTER_PORT": str(dagster_port),
        "MLFLOW_PORT": str(mlflow_port),
        "SERVE_PORT": str(serve_port),
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "true",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("ML_PLATFORM_MLFLOW_UI_URL", None)
    env.pop("ML_PLATFORM_DAGSTER_UI_URL", None)
    log = ARTIFACTS / "servers.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "dev.sh")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_restore_signals,
        )
    running = Stack(
        process,
        f"http://127.0.0.1:{dagster_port}",
        f"http://127.0.0.1:{mlflow_port}",
        dagster_port,
        mlflow_port,
        log,
    )
    running.serve_port = serve_port
    running.env = env
    try:
        deadline = time.monotonic() + 180
        while not (_http_ok(f"{running.dagster}/server_info") and _http_ok(f"{running.mlflow}/health")):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"servers did not come up (exit {process.poll()}):\n{running.log_tail()}")
            time.sleep(1)
        yield running
    finally:
        if not running.stop():
            running.kill()


@pytest.fixture(scope="module")
def shots(stack: Stack) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        yield Shots(context.new_page())
        context.close()
        browser.close()


class Shots:
    """Which browser page a step's screenshot shows (the Dagster tab, or the MLflow tab it opened)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page


@contextlib.contextmanager
def step(shots: Shots, name: str, stack: Stack) -> Iterator[None]:
    """Screenshot ``name``.png after the step, or ``name``_FAILED.png (and the server log tail) on failure."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(Exception):
            shots.page.screenshot(path=str(ARTIFACTS / f"{name}_FAILED.png"), full_page=True)
        raise AssertionError(
            f"step {name} failed: {exc}\n--- servers.log (tail) ---\n{stack.log_tail()}"
        ) from exc
    shots.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _skip_community_dialog(page) -> None:  # type: ignore[no-untyped-def]
    """A fresh Dagster instance may ask to join the community: click Skip if it does."""
    skip = page.get_by_role("button", name="Skip")
    with contextlib.suppress(Exception):
        skip.wait_for(timeout=3_000)
        skip.click()


def _backfill_status(stack: Stack, backfill_id: str) -> str:
    data = stack.graphql(
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) {"
        " ... on PartitionBackfill { status } ... on PythonError { message } } }",
        {"id": backfill_id},
    )
    result = data["partitionBackfillOrError"]
    return str(result.get("status") or result.get("message"))


def test_materialize_all_from_the_asset_graph(stack: Stack, shots: Shots) -> None:
    page = shots.page
    with step(shots, "01_asset_graph", stack):
        page.goto(f"{stack.dagster}/asset-groups")
        _skip_community_dialog(page)
        for name in (
            "raw_flights",
            "cleaned_flights",
            "features",
            "model",
            "evaluation_report",
            "deployment",
        ):
            page.get_by_text(name, exact=True).first.wait_for()
    with step(shots, "02_materialize_all_dialog", stack):
        page.get_by_role("button", name="Materialize all").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Partition selection").wait_for()
        dialog.get_by_role("button", name="All", exact=True).click()
        dialog.get_by_text("28 partitions").wait_for()
    with step(shots, "03_backfill_launched", stack):
        dialog.get_by_role("button", name="Launch backfill").click()
        toast = page.get_by_text("Created backfill")
        toast.wait_for()
        backfill_id = toast.inner_text().split()[-1]
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    status = _backfill_status(stack, backfill_id)
    while status in ("REQUESTED", "CANCELING") and time.monotonic() < deadline:
        time.sleep(5)
        status = _backfill_status(stack, backfill_id)
    with step(shots, "04_backfill_succeeded", stack):
        page.goto(f"{stack.dagster}/runs/b/{backfill_id}")
        assert status == "COMPLETED_SUCCESS", f"backfill {backfill_id}: {status}"
        page.get_by_text("Completed", exact=False).first.wait_for()
        page.goto(f"{stack.dagster}/asset-groups")
        page.get_by_text("deployment", exact=True).first.wait_for()
        time.sleep(2)  # let the graph paint materialization states


def test_report_shows_embedded_plots_and_the_deploy_gate(stack: Stack, shots: Shots) -> None:
    page = shots.page
    with step(shots, "05_report_plots", stack):
        page.goto(f"{stack.dagster}/assets/flights_delay/evaluation_report")
        page.get_by_text("[Show Markdown]").first.click()
        dialog = page.get_by_role("dialog")
        images = dialog.locator("img[src^='data:image/png;base64,']")
        images.first.wait_for()
        titles = [images.nth(i).get_attribute("alt") for i in range(images.count())]
        assert titles == ["roc", "precision recall", "calibration", "confusion matrix", "slices"]
        for i in range(images.count()):
            width = images.nth(i).evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width >= 300, f"plot {titles[i]} did not render (naturalWidth {width})"
        images.first.scroll_into_view_if_needed()
    with step(shots, "06_deploy_gate", stack):
        page.keyboard.press("Escape")
        page.get_by_role("tab", name="Checks").click()
        page.get_by_text("This is a blocking asset check").wait_for()
        page.get_by_text("deploy_gate", exact=True).first.wait_for()
        page.get_by_text("Passed", exact=True).first.wait_for()
        page.get_by_text("no champion yet: nothing to beat", exact=False).first.wait_for()


def test_mlflow_link_shows_the_champion_its_card_and_metrics(stack: Stack, shots: Shots) -> None:
    page = shots.page
    with step(shots, "07_mlflow_model_version", stack):
        page.goto(f"{stack.dagster}/assets/flights_delay/evaluation_report")
        link = page.locator(f"a[href^='{stack.mlflow}/#/models/flights_delay/versions/']").first
        with page.expect_popup() as popup:
            link.click()
        mlflow = shots.page = popup.value
        mlflow.set_viewport_size({"width": 1400, "height": 900})
        mlflow.get_by_text("Aliases").first.wait_for()
        with contextlib.suppress(Exception):  # the assistant side panel hides half the page
            mlflow.get_by_role("button", name="Close").first.click(timeout=3_000)
        mlflow.locator("text=/@\\s*champion/").first.wait_for()
        card = mlflow.get_by_text("Deploy gate:", exact=False).first
        card.wait_for()
        assert "passed" in card.inner_text()
        assert "workflowType=machine_learning" in mlflow.url  # the classic view, registry in the nav
        # the card's links back to Dagster are real links (Markdown), not tag text
        back = mlflow.locator(f"a[href^='{stack.dagster}/runs/']")
        back.first.wait_for()
        assert back.count() >= 2, "links to the training and the gate runs"
    with step(shots, "08_mlflow_run_metrics", stack):
        mlflow.locator(f"a[href*='/runs/']:not([href^='{stack.dagster}'])").first.click()
        mlflow.get_by_text("holdout_roc_auc", exact=True).first.wait_for()
        mlflow.get_by_text("holdout_baseline_roc_auc", exact=True).first.wait_for()
        mlflow.get_by_text("dagster_run_url", exact=True).first.wait_for()
    with step(shots, "09_link_back_to_dagster", stack):
        # the run's description (Markdown) links to the Dagster run that trained it: an <a href>
        link = mlflow.get_by_role("link", name="Dagster run that trained it").first
        link.wait_for()
        href = link.get_attribute("href") or ""
        assert re.fullmatch(rf"{re.escape(stack.dagster)}/runs/[0-9a-f-]+", href), href
        shots.page = page
        mlflow.close()
        page.goto(href)
        page.get_by_text("flights_delay__model", exact=True).first.wait_for()
        page.get_by_text("Success", exact=False).first.wait_for()


def test_data_assets_show_row_counts_and_the_pandera_schema(stack: Stack, shots: Shots) -> None:
    page = shots.page
    with step(shots, "10_cleaned_flights", stack):
        page.goto(f"{stack.dagster}/assets/flights_delay/cleaned_flights")
        page.get_by_text("Row count").first.wait_for()
        page.get_by_text("Columns", exact=True).first.wait_for()
        page.get_by_text("non-nullable").first.wait_for()
        page.get_by_text("rows_quarantined").first.wait_for()


def test_the_deployment_page_states_the_live_version(stack: Stack, shots: Shots) -> None:
    page = shots.page
    with step(shots, "11_deployment_live_version", stack):
        page.goto(f"{stack.dagster}/assets/flights_delay/deployment")
        page.get_by_text("champion_version", exact=True).first.wait_for()
        page.get_by_text("previous_champion", exact=True).first.wait_for()
        page.get_by_text("export_path", exact=True).first.wait_for()
        page.get_by_text("champion_history", exact=True).first.wait_for()


def test_a_gate_rejection_reads_as_a_decision_on_the_run_page(stack: Stack, shots: Shots) -> None:
    """A weakened challenger launched as from the Launchpad: the run succeeds and its own page says
    why the gate rejected it (not a red failure with a stack trace)."""
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=stack.dagster_port, timeout=60)
    weak = {"max_iter": 3, "max_depth": 1, "learning_rate": 0.05}
    run_id = client.submit_job_execution(
        "flights_delay_train",
        repository_location_name="ml_platform",
        repository_name="__repository__",
        run_config={"ops": {"flights_delay__model": {"config": {"hyperparameters": weak}}}},
    )
    deadline = time.monotonic() + 420
    while (status := client.get_run_status(run_id)) not in (
        DagsterRunStatus.SUCCESS,
        DagsterRunStatus.FAILURE,
    ):
        assert time.monotonic() < deadline, f"training {run_id} still {status}:\n{stack.log_tail()}"
        time.sleep(3)
    assert status == DagsterRunStatus.SUCCESS, "a gate rejection must not fail the run"
    page = shots.page
    with step(shots, "12_gate_rejection_run", stack):
        page.goto(f"{stack.dagster}/runs/{run_id}")
        page.get_by_text("rejected by deploy_gate", exact=False).first.wait_for()
        page.get_by_text("the champion stays", exact=False).first.wait_for()
        assert page.get_by_text("DagsterAssetCheckFailedError").count() == 0


# --- after the alias moves (issue 13): scoring, monitoring, alias history -----------------------

MONITORED_DAY = "2013-01-28"


@pytest.fixture(scope="module")
def monitoring_runs(stack: Stack) -> dict[str, str]:
    """Two runs launched as from the Launchpad, side by side: the last day's ingest again (now that a
    champion exists its `feature_drift` is judged against the champion's reference profile) and a
    train run with v1's settings (same data, same AUC: it passes the gate, so the deploy sensor makes
    it champion)."""
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=stack.dagster_port, timeout=60)
    where = {"repository_location_name": "ml_platform", "repository_name": "__repository__"}
    return {
        "ingest": client.submit_job_execution(
            "flights_delay_ingest", tags={"dagster/partition": MONITORED_DAY}, **where
        ),
        "train": client.submit_job_execution("flights_delay_train", **where),
    }


def _wait_run(stack: Stack, run_id: str, timeout: float = 600) -> None:
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=stack.dagster_port, timeout=60)
    deadline, done = time.monotonic() + timeout, (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
    while (status := client.get_run_status(run_id)) not in done:
        assert time.monotonic() < deadline, f"run {run_id} still {status}:\n{stack.log_tail()}"
        time.sleep(3)
    assert status == DagsterRunStatus.SUCCESS, f"run {run_id} failed:\n{stack.log_tail()}"


def _show_markdown(page, check: str):  # type: ignore[no-untyped-def]
    """The check's `report` metadata opened as its dialog (the Checks tab, the check selected)."""
    page.get_by_text(check, exact=True).first.click()
    page.get_by_text("[Show Markdown]").first.click()
    return page.get_by_role("dialog")


def test_scoring_and_monitoring_assets_with_their_checks(
    stack: Stack, shots: Shots, monitoring_runs: dict[str, str]
) -> None:
    page = shots.page
    with step(shots, "13_monitoring_graph", stack):
        page.goto(f"{stack.dagster}/asset-groups")
        for name in ("features", "deployment", "predictions", "live_performance"):
            page.get_by_text(name, exact=True).first.wait_for()
    for asset, check, n in (
        ("live_performance", "performance_decay", 14),
        ("predictions", "prediction_drift", 15),
    ):
        with step(shots, f"{n}_{check}", stack):
            page.goto(f"{stack.dagster}/assets/flights_delay/{asset}?view=checks")
            page.get_by_text(check, exact=True).first.wait_for()
    with step(shots, "16_prediction_drift_plot", stack):
        # scored in the backfill after the deployment: the scores against the champion's own
        dialog = _show_markdown(page, "prediction_drift")
        dialog.get_by_text("Champion v1, reference", exact=False).first.wait_for()
        row = dialog.locator("tr", has_text="score").first
        row.wait_for()
        assert re.search(r"score\s+\d+\.\d{3}\s+\d+\.\d{3}\s+KS", row.inner_text()), row.inner_text()
        _assert_plot(dialog)


def _assert_plot(dialog) -> None:  # type: ignore[no-untyped-def]
    plot = dialog.locator("img[alt='drift'][src^='data:image/png;base64,']")
    plot.wait_for()
    plot.scroll_into_view_if_needed()
    width = plot.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width >= 300, f"the drift plot did not render (naturalWidth {width})"


def test_feature_drift_names_the_features_with_a_plot(
    stack: Stack, shots: Shots, monitoring_runs: dict[str, str]
) -> None:
    _wait_run(stack, monitoring_runs["ingest"])
    spec = load_spec(SPEC_DIR / "flights_delay.yaml", UI_SPEC_OVERRIDES)
    page = shots.page
    with step(shots, "17_feature_drift_plot", stack):
        page.goto(f"{stack.dagster}/assets/flights_delay/features?view=checks")
        dialog = _show_markdown(page, "feature_drift")
        dialog.get_by_text(f"worst day {MONITORED_DAY}", exact=False).first.wait_for()
        rows = dialog.locator("tbody tr")
        rows.first.wait_for()
        named = [rows.nth(i).inner_text().split()[0] for i in range(rows.count())]
        known = set(spec.features.numeric) | set(spec.features.categorical)
        assert len(named) == spec.monitoring.drift.top_features and set(named) <= known, named
        _assert_plot(dialog)


def test_mlflow_shows_the_alias_moves_after_a_rollback(
    stack: Stack, shots: Shots, monitoring_runs: dict[str, str]
) -> None:
    _wait_run(stack, monitoring_runs["train"])
    deadline = time.monotonic() + 300
    while (new := _champion(stack)) in ("1", None):  # the deploy sensor deploys the passing version
        assert time.monotonic() < deadline, f"no new champion:\n{stack.log_tail()}"
        time.sleep(3)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ml-platform"),
            "rollback",
            "--reason",
            "browser test: back to v1",
        ],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0 and f"champion v{new} -> v1 (rolled_back)" in done.stdout, (
        done.stdout + done.stderr
    )
    page = shots.page
    with step(shots, "18_mlflow_alias_history", stack):
        page.goto(f"{stack.mlflow}/#/models/flights_delay?workflowType=machine_learning")
        with contextlib.suppress(Exception):  # the assistant side panel hides half the page
            page.get_by_role("button", name="Close").first.click(timeout=3_000)
        rows = page.get_by_role("row")
        rollback = rows.filter(has_text="champion_history.00003").first
        rollback.wait_for()
        text = rollback.inner_text()
        assert '"event": "rollback"' in text and "browser test: back to v1" in text, text
        assert f'"from": "{new}"' in text and '"to": "1"' in text, text
        deploy = rows.filter(has_text="champion_history.00002").first.inner_text()
        assert '"event": "deploy"' in deploy and f'"to": "{new}"' in deploy, deploy

        def version_row(v: str) -> str:
            link = page.get_by_role("link", name=f"Version {v}", exact=True)
            return str(rows.filter(has=link).first.inner_text())

        assert re.search(r"@\s*champion\b", version_row("1")), version_row("1")
        assert re.search(r"@\s*previous_champion\b", version_row(new)), version_row(new)
        page.get_by_text("champion_history.00003").first.scroll_into_view_if_needed()


def _champion(stack: Stack) -> str | None:
    url = f"{stack.mlflow}/api/2.0/mlflow/registered-models/alias?name=flights_delay&alias=champion"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(json.loads(response.read())["model_version"]["version"])
    except OSError:
        return None


def test_one_ctrl_c_stops_every_server(stack: Stack) -> None:
    assert _listening(stack.serve_port), f"the endpoint is not up:\n{stack.log_tail()}"
    assert stack.stop(), f"servers still running after one SIGINT:\n{stack.log_tail()}"
    assert not _listening(stack.dagster_port) and not _listening(stack.mlflow_port)
    assert not _listening(stack.serve_port)
    # run from DAGSTER_HOME, `dagster dev` does not claim the root dagster.yaml goes unused
    logged = stack.log.read_text(errors="replace")
    assert "Serving dagster-webserver on http://127.0.0.1:" in logged
    assert "will not be used to configure Dagster" not in logged
