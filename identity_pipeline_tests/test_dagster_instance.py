"""Where the shared Dagster instance lives, and that its settings are the project's."""

from pathlib import Path

import pytest
from dagster import DagsterInstance

from identity_pipeline import settings
from identity_pipeline.dagster_instance import (
    ENV_DAGSTER_HOME,
    home_path,
    prepare_home,
    project_config,
    use_project_instance,
)


def test_default_home_sits_next_to_the_duckdb_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_DAGSTER_HOME, raising=False)
    monkeypatch.setenv(settings.ENV_DB, str(tmp_path / "wh" / "identity.duckdb"))
    assert home_path() == tmp_path / "wh" / "dagster_home"
    monkeypatch.delenv(settings.ENV_DB)
    monkeypatch.chdir(tmp_path)
    assert home_path() == tmp_path / "data" / "dagster_home"  # absolute, as Dagster needs
    monkeypatch.setenv(ENV_DAGSTER_HOME, str(tmp_path / "elsewhere"))
    assert home_path() == tmp_path / "elsewhere"


def test_a_new_home_gets_the_project_settings_and_they_are_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DAGSTER_HOME, str(tmp_path / "home"))
    home = use_project_instance()
    assert home == tmp_path / "home"
    assert (home / "dagster.yaml").read_text() == project_config().read_text()
    with DagsterInstance.get() as instance:
        assert instance.root_directory == str(home)
        assert instance.get_settings("concurrency")["runs"]["max_concurrent_runs"] == 1
        assert instance.get_settings("concurrency")["pools"]["default_limit"] == 1
        assert instance.run_monitoring_enabled
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


def test_a_home_with_its_own_settings_keeps_them(tmp_path: Path) -> None:
    own = "telemetry:\n  enabled: false\n"
    (tmp_path / "dagster.yaml").write_text(own)
    assert prepare_home(tmp_path) == tmp_path
    assert (tmp_path / "dagster.yaml").read_text() == own
