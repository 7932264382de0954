"""The one Dagster instance everything a user runs shares: the demo, `identity-pipeline run`
and the UI (`identity-pipeline ui`).

It lives in a folder that persists between commands: $DAGSTER_HOME if set, else
`dagster_home` next to the DuckDB file (`data/dagster_home` for the default
`data/identity.duckdb`), so a warehouse and the run history that built it stay together.
A folder without a `dagster.yaml` gets the project's (run queue of one, pools
`uid2_api`/`id5_api`, run monitoring); one that has its own is left alone, so a deployment
keeps its settings.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from identity_pipeline import settings

ENV_DAGSTER_HOME = "DAGSTER_HOME"
HOME_NAME = "dagster_home"
DEFAULT_DAGSTER_HOME = f"{Path(settings.DEFAULT_DB).parent}/{HOME_NAME}"
CONFIG_NAME = "dagster.yaml"


def project_config() -> Path:
    """The project's instance settings, shipped inside the package."""
    return Path(str(resources.files("identity_pipeline").joinpath(CONFIG_NAME)))


def home_path() -> Path:
    """The instance folder, absolute (Dagster requires an absolute DAGSTER_HOME)."""
    configured = os.environ.get(ENV_DAGSTER_HOME)
    folder = Path(configured) if configured else settings.database_path().parent / HOME_NAME
    return folder.expanduser().resolve()


def prepare_home(home: Path | None = None) -> Path:
    """Create the instance folder if needed and give it the project's dagster.yaml if it has
    none; returns the absolute folder."""
    folder = (home or home_path()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / CONFIG_NAME
    if not config.exists():
        shutil.copyfile(project_config(), config)
    return folder


def use_project_instance() -> Path:
    """Point this process (and every process it starts) at the shared instance: prepares the
    folder and sets $DAGSTER_HOME to it. Returns the folder."""
    folder = prepare_home()
    os.environ[ENV_DAGSTER_HOME] = str(folder)
    return folder
