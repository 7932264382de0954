"""The Dagster UI in a real browser after a demo: `identity-pipeline demo`, then
`identity-pipeline ui` on the same instance, driven in headless Chromium.

Browsers cannot be downloaded here (`playwright install` fails), so the test uses Debian's
`chromium` package, installing it with apt-get if it is missing, and Playwright drives it
through `executable_path`.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from dagster import DagsterInstance, DagsterRunStatus
from playwright.sync_api import Page, sync_playwright

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; installed on first use (takes about 30 s on this machine)."""
    if not CHROMIUM.exists():
        command = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert CHROMIUM.exists(), (
            f"could not install Chromium with `{' '.join(command)}` (needs root and the Debian "
            f"mirror): {done.stderr[-500:]}"
        )
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DEMO_DAYS = 14
DEMO_ROWS = 2000
DEMO_JOBS = (
    "ingest_contacts",
    "uid2_refresh",
    "id5_refresh",
    "identity_graph_refresh",
    "attribution",
)
WARNINGS = ("Warning:", "BetaWarning", "SupersessionWarning", "DeprecationWarning")


@pytest.fixture
def demo_then_ui(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A small `identity-pipeline demo`, then `identity-pipeline ui` on a free port, both as a
    user runs them: DAGSTER_HOME unset, so both use the instance next to the DuckDB file."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DAGSTER_HOME" and not k.startswith(("UID2_", "ID5_"))
    }
    env["IDENTITY_PIPELINE_DB"] = str(tmp_path / "data" / "identity.duckdb")
    env["IDENTITY_PIPELINE_LANDING"] = str(tmp_path / "data" / "landing")
    cli = str(Path(sys.executable).parent / "identity-pipeline")
    demo = subprocess.run(
        [cli, "demo", "--rows", str(DEMO_ROWS), "--days", str(DEMO_DAYS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    for warning in WARNINGS:
        assert warning not in demo.stdout + demo.stderr, (demo.stdout + demo.stderr)[-3000:]
    port = _free_port()
    log_path = tmp_path / "ui.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [cli, "ui", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its webserver, daemon and code servers share the group
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                if requests.get(f"{base}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "identity-pipeline ui did not answer /server_info"
            time.sleep(0.5)
        yield base, tmp_path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    # Nothing a user cannot act on was printed while the UI ran.
    text = log_path.read_text()
    for warning in WARNINGS:
        assert warning not in text, text[-3000:]


def _dismiss_community_dialog(page: Page) -> None:
    """A fresh instance greets the first visit with "Join the Dagster community"."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except Exception:  # the dialog does not always appear; nothing to dismiss
        return
    skip.click()


def _shot(page: Page, folder: Path, name: str, *, readme: bool = False) -> Path:
    """Save a screenshot and print where; UPDATE_SCREENSHOT=1 refreshes the README's ones."""
    path = folder / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    if readme and os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copy(path, PROJECT / "docs" / name)
    return path


def test_ui_shows_the_demo_and_a_launched_materialization_succeeds(
    chromium: Path, demo_then_ui: tuple[str, Path]
) -> None:
    base, folder = demo_then_ui
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)

        # The runs list holds the demo's runs, all successful.
        page.goto(f"{base}/runs")
        _dismiss_community_dialog(page)
        for job in DEMO_JOBS:
            page.get_by_role("link", name=job, exact=True).first.wait_for()
        assert page.get_by_text("Success", exact=True).count() >= len(DEMO_JOBS)
        assert "Failure" not in page.inner_text("body")
        _shot(page, folder, "dagster-runs.png", readme=True)

        # campaign_attribution: its latest materialization's metadata, with the chart image.
        page.goto(f"{base}/assets/campaign_attribution")
        _dismiss_community_dialog(page)
        page.get_by_text("value_by_campaign", exact=True).wait_for()
        page.get_by_text("campaigns", exact=True).first.wait_for()
        assert page.get_by_text("value (USD)").count() >= 1
        _shot(page, folder, "campaign-attribution.png")
        # Markdown of 1,000 characters or more (any image) sits behind "[Show Markdown]".
        row = page.locator("tr", has_text="value_by_campaign").first
        row.get_by_text("[Show Markdown]").click()
        chart = page.locator('img[src^="data:image/png;base64,"]').first
        chart.wait_for()
        assert chart.evaluate("img => img.complete && img.naturalWidth") == 448  # a real PNG
        time.sleep(1)  # let the dialog finish fading in before the picture
        _shot(page, folder, "campaign-attribution-chart.png", readme=True)
        page.keyboard.press("Escape")

        # Its partitions: the demo's days are materialized.
        page.goto(f"{base}/assets/campaign_attribution?view=partitions")
        page.get_by_text(f"Materialized ({DEMO_DAYS})").wait_for()

        # Lineage still shows every group.
        page.goto(f"{base}/asset-groups/contacts")
        page.get_by_text("Global asset lineage").wait_for()
        for group in ("contacts", "uid2", "id5", "optouts", "attribution"):
            page.get_by_text(group, exact=True).first.wait_for()
        time.sleep(1)  # let the graph layout settle before the picture
        _shot(page, folder, "dagster-ui.png", readme=True)

        # A materialization launched from the UI goes through the queue and the daemon.
        page.goto(f"{base}/assets/raw_contacts")
        with page.expect_response(
            lambda r: (
                "graphql" in r.url and "LaunchPipelineExecution" in (r.request.post_data or "")
            )
        ) as launched:
            page.locator("button", has_text="Materialize").first.click()
        assert launched.value.ok
        assert "LaunchRunSuccess" in launched.value.text()
        browser.close()

    # The same instance the UI shows holds the demo's runs and, soon, the launched one.
    finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    with DagsterInstance.from_config(str(folder / "data" / "dagster_home")) as instance:
        deadline = time.monotonic() + 180
        while True:
            runs = instance.get_runs()
            launched_runs = [r for r in runs if r.job_name not in DEMO_JOBS]
            if launched_runs and launched_runs[0].status in finished:
                break
            assert time.monotonic() < deadline, [(r.job_name, r.status) for r in runs]
            time.sleep(1)
        assert [r.status for r in launched_runs] == [DagsterRunStatus.SUCCESS]
        assert sorted(r.job_name for r in runs if r.job_name in DEMO_JOBS) == sorted(DEMO_JOBS)

    with duckdb.connect(str(folder / "data" / "identity.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_contacts").fetchone() == (DEMO_ROWS,)
