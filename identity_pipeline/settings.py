"""Environment variables the pipeline reads, with their defaults.

Read at run time (inside resources and the CLI), never at import, so loading the Dagster
definitions has no side effects and tests can point each run somewhere else.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

ENV_DB = "IDENTITY_PIPELINE_DB"
DEFAULT_DB = "data/identity.duckdb"

ENV_LANDING = "IDENTITY_PIPELINE_LANDING"
DEFAULT_LANDING = "data/landing"

ENV_SERVICE_GRAPH = "IDENTITY_SERVICE_GRAPH"
SERVICE_GRAPH_NAME = "graph_snapshot"
DEFAULT_SERVICE_GRAPH = f"{Path(DEFAULT_DB).parent}/{SERVICE_GRAPH_NAME}"
"""The identity service's serving copy of the graph: the pipeline's `identity_service_snapshot`
asset publishes there and `identity-pipeline serve` reads it (one setting for both). Unset, it
is `graph_snapshot` next to the DuckDB file, so a warehouse and its snapshot stay together."""

ENV_DEFAULT_REGION = "IDENTITY_PIPELINE_DEFAULT_REGION"
DEFAULT_REGION = "US"

ENV_AUTOMATION = "IDENTITY_PIPELINE_AUTOMATION"
"""'running' starts schedules and sensors as soon as the daemon loads the code; default
'stopped' (turn them on in the UI), so a first `identity-pipeline ui` launches nothing by itself."""

ENV_REFRESH_HOUR = "IDENTITY_PIPELINE_REFRESH_HOUR_UTC"
DEFAULT_REFRESH_HOUR = 2

ENV_NOW = "IDENTITY_PIPELINE_NOW"
"""Pins the pipeline's clock (ISO 8601, UTC if no offset). For simulations and tests that move
a sandbox's clock forward by days; leave unset in production."""


def env_fallback_field(what: str, env: str, fallback: object) -> Any:
    """A config or resource field that is None unless set: unset, the run reads `$env`, else
    `fallback`. Its description says so after `what`."""
    return Field(default=None, description=f"{what}; unset means ${env} or {fallback}.")


def _from_env(name: str, default: str, override: str | None) -> str:
    if override:
        return override
    return os.environ.get(name) or default


def database_path(override: str | None = None) -> Path:
    return Path(_from_env(ENV_DB, DEFAULT_DB, override))


def landing_path(override: str | None = None) -> Path:
    return Path(_from_env(ENV_LANDING, DEFAULT_LANDING, override))


def service_graph_path(override: str | None = None) -> Path:
    configured = override or os.environ.get(ENV_SERVICE_GRAPH)
    return Path(configured) if configured else database_path().parent / SERVICE_GRAPH_NAME


REGION_ALIASES = {"UK": "GB", "EL": "GR"}
"""Codes CRM exports use that phonenumbers does not: read as the ISO code (as the SQL does)."""


def region_code(value: str) -> str:
    """`value` as a region phonenumbers knows (ISO 3166 alpha-2, any case; UK and EL read as GB
    and GR), or ValueError naming the value."""
    import phonenumbers

    code = value.strip().upper()
    code = REGION_ALIASES.get(code, code)
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"{value!r} is not a region phonenumbers knows; use an ISO 3166 alpha-2 code such "
            "as US, GB or DE"
        )
    return code


def default_region(override: str | None = None) -> str:
    """The region for national phone numbers without a country; ValueError if unknown."""
    if override:
        return region_code(override)
    value = os.environ.get(ENV_DEFAULT_REGION) or DEFAULT_REGION
    try:
        return region_code(value)
    except ValueError as error:
        raise ValueError(f"${ENV_DEFAULT_REGION}: {error}") from None


def now() -> datetime:
    """The pipeline's current time (timezone-aware UTC); honours $IDENTITY_PIPELINE_NOW."""
    pinned = os.environ.get(ENV_NOW)
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned)
    except ValueError:
        raise ValueError(f"${ENV_NOW}={pinned!r} is not an ISO 8601 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def automation_running() -> bool:
    """Read when definitions load: schedules' and sensors' default status is fixed there."""
    value = os.environ.get(ENV_AUTOMATION, "stopped").strip().lower()
    if value not in ("running", "stopped"):
        raise ValueError(f"${ENV_AUTOMATION} must be 'running' or 'stopped', got {value!r}")
    return value == "running"


def refresh_hour_utc() -> int:
    """Read when definitions load: a schedule's cron string is fixed there."""
    raw = os.environ.get(ENV_REFRESH_HOUR) or str(DEFAULT_REFRESH_HOUR)
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise ValueError(f"${ENV_REFRESH_HOUR} must be an hour 0-23, got {raw!r}")
    return int(raw)


ENV_ATTRIBUTION_START = "IDENTITY_PIPELINE_ATTRIBUTION_START"
DEFAULT_ATTRIBUTION_START = "2025-01-01"
ENV_LOOKBACK_DAYS = "IDENTITY_PIPELINE_LOOKBACK_DAYS"
DEFAULT_LOOKBACK_DAYS = 30
# Unlike the settings above, these two shape the definitions themselves (the daily partitions
# and the impressions -> attribution partition mapping), so they are read when the code
# location loads. Changing them needs a reload, not just a new run.


def attribution_start_date(override: str | None = None) -> str:
    """First day (YYYY-MM-DD, UTC) of the daily attribution partitions."""
    value = _from_env(ENV_ATTRIBUTION_START, DEFAULT_ATTRIBUTION_START, override).strip()
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"${ENV_ATTRIBUTION_START}={value!r} is not a YYYY-MM-DD date") from None
    return value


def attribution_lookback_days(override: int | None = None) -> int:
    """How many days before a conversion its person's impressions still earn credit."""
    if override is not None:
        return override
    text = os.environ.get(ENV_LOOKBACK_DAYS) or str(DEFAULT_LOOKBACK_DAYS)
    if not text.strip().isdigit() or not 0 <= int(text) <= 365:
        raise ValueError(f"${ENV_LOOKBACK_DAYS}={text!r} must be a whole number of days, 0-365")
    return int(text)
