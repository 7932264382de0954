"""The Dagster UI in a real browser: `dagster dev` from the repo root, headless Chromium.

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
from playwright.sync_api import Page, sync_playwright

from identity_pipeline.dev.generate_contacts import generate_contacts

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT / "docs" / "dagster-ui.png"


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


@pytest.fixture
def dagster_ui(tmp_path: Path) -> Iterator[str]:
    """`dagster dev` from the repo root (its dagster.yaml) on a free port, over a tmp warehouse."""
    generate_contacts(300, tmp_path / "landing", seed=1)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["IDENTITY_PIPELINE_DB"] = str(tmp_path / "identity.duckdb")
    env["IDENTITY_PIPELINE_LANDING"] = str(tmp_path / "landing")
    port = _free_port()
    homes_before = set(PROJECT.glob(".tmp_dagster_home_*"))
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with (tmp_path / "dagster-dev.log").open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # webserver, daemon and code server share its group
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "dagster-dev.log").read_text()[-2000:]
            try:
                if requests.get(f"{base}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not answer /server_info"
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        for home in set(PROJECT.glob(".tmp_dagster_home_*")) - homes_before:
            shutil.rmtree(home, ignore_errors=True)


def _dismiss_community_dialog(page: Page) -> None:
    """A fresh instance greets the first visit with "Join the Dagster community"."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except Exception:  # the dialog does not always appear; nothing to dismiss
        return
    skip.click()


def test_ui_shows_the_asset_graph_and_a_launched_materialization_succeeds(
    chromium: Path, dagster_ui: str, tmp_path: Path
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)

        page.goto(f"{dagster_ui}/asset-groups/contacts")
        _dismiss_community_dialog(page)
        page.get_by_text("Global asset lineage").wait_for()
        for group in ("contacts", "uid2", "id5", "optouts", "attribution"):
            page.get_by_text(group, exact=True).first.wait_for()
        time.sleep(1)  # let the graph layout settle before the picture
        shot = tmp_path / "dagster-ui.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        if os.environ.get("UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, SCREENSHOT)

        page.goto(f"{dagster_ui}/assets/raw_contacts")
        _dismiss_community_dialog(page)
        page.get_by_text("Never materialized").wait_for()
        with page.expect_response(
            lambda r: (
                "graphql" in r.url and "LaunchPipelineExecution" in (r.request.post_data or "")
            )
        ) as launched:
            page.locator("button", has_text="Materialize").first.click()
        assert launched.value.ok
        assert "LaunchRunSuccess" in launched.value.text()

        page.goto(f"{dagster_ui}/runs")
        _dismiss_community_dialog(page)
        try:
            # The runs list updates itself; the run goes queued -> started -> success.
            page.get_by_text("Success", exact=True).first.wait_for(timeout=120_000)
        finally:
            page.screenshot(path=str(tmp_path / "runs.png"))
        body = page.inner_text("body")
        assert "raw_contacts" in body
        assert "Failure" not in body
        browser.close()

    # The run really wrote the warehouse: all 300 generated rows.
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_contacts").fetchone() == (300,)
