"""Dagster resources shared by every concern: the DuckDB warehouse and the landing area."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from pydantic import Field

from identity_pipeline import settings, warehouse


class DuckDBWarehouse(ConfigurableResource):  # type: ignore[type-arg]
    """The one DuckDB file every asset reads and writes.

    Connections are short-lived and closed on every exit path so the single-writer file lock
    is released between steps; see README "DuckDB and Dagster executors".
    """

    database: str | None = settings.env_fallback_field(
        "DuckDB file", settings.ENV_DB, settings.DEFAULT_DB
    )
    lock_timeout_seconds: float = Field(
        default=120.0, description="How long to wait while another process holds the file."
    )

    @property
    def path(self) -> Path:
        return settings.database_path(self.database)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.path, lock_timeout_seconds=self.lock_timeout_seconds) as con:
            yield con


def _landing_folder(name: str) -> property:
    """A folder of the landing area (a read-only Path property)."""

    def folder(landing: "LandingArea") -> Path:
        return landing.root / name

    return property(folder, doc=f"The landing area's {name}/ folder.")


class LandingArea(ConfigurableResource):  # type: ignore[type-arg]
    """Where source files arrive: contacts/, optouts/ (suppression files), events/, and more."""

    path: str | None = settings.env_fallback_field(
        "Landing folder", settings.ENV_LANDING, settings.DEFAULT_LANDING
    )
    default_region: str | None = settings.env_fallback_field(
        "Region for national phone numbers without a country",
        settings.ENV_DEFAULT_REGION,
        settings.DEFAULT_REGION,
    )

    @property
    def root(self) -> Path:
        return settings.landing_path(self.path)

    contacts_dir = _landing_folder("contacts")
    optouts_dir = _landing_folder("optouts")
    impressions_dir = _landing_folder("impressions")
    conversions_dir = _landing_folder("conversions")
    events_dir = _landing_folder("events")

    @property
    def phone_region(self) -> str:
        return settings.default_region(self.default_region)
