"""Shared fixtures: every test gets its own DuckDB file and landing folder via env vars."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance

from identity_pipeline import settings


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
