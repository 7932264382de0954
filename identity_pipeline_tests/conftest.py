"""Shared fixtures: every test gets its own DuckDB file and landing folder via env vars."""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance

from identity_pipeline import settings
from identity_pipeline.sandboxes.uid2 import UID2Sandbox, UID2SandboxConfig
from identity_pipeline_tests import dagster_processes


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the pipeline at tmp_path/identity.duckdb and tmp_path/landing."""
    monkeypatch.setenv(settings.ENV_DB, str(tmp_path / "identity.duckdb"))
    monkeypatch.setenv(settings.ENV_LANDING, str(tmp_path / "landing"))
    (tmp_path / "landing" / "contacts").mkdir(parents=True)
    return tmp_path


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as dagster_instance:
        yield dagster_instance


@pytest.fixture
def uid2_sandbox() -> Iterator[Callable[..., UID2Sandbox]]:
    """Start sandboxes (no opt-outs unless asked) on free ports; all stop afterwards."""
    started: list[UID2Sandbox] = []

    def start(**overrides: Any) -> UID2Sandbox:
        sandbox = UID2Sandbox(UID2SandboxConfig(**{"optout_rate": 0.0, **overrides})).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def dagster_materialize() -> Iterator[
    Callable[[dict[str, str], str, Path], subprocess.Popen[bytes]]
]:
    """Start `dagster asset materialize` processes (see dagster_processes.materialize); any
    still running when the test ends, e.g. after a failed assertion, are killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], select: str, log: Path) -> subprocess.Popen[bytes]:
        run = dagster_processes.materialize(env, select, log)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.poll() is None:
            run.kill()
            run.wait()
