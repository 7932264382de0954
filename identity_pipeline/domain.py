"""What a domain's definitions.py builds: its assets and the asset job that runs them, with the
domain's checks, sensors, schedules and resources, as the one Definitions the package merges."""

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import (
    AssetChecksDefinition,
    AssetsDefinition,
    AssetSelection,
    Definitions,
    ScheduleDefinition,
    SensorDefinition,
    define_asset_job,
)


def domain_definitions(
    *,
    job: str,
    job_description: str,
    assets: Sequence[AssetsDefinition],
    selection: AssetSelection | None = None,
    asset_checks: Sequence[AssetChecksDefinition] = (),
    sensors: Sequence[SensorDefinition] = (),
    schedules: Sequence[ScheduleDefinition] = (),
    resources: Mapping[str, Any] | None = None,
) -> Definitions:
    """The domain's Definitions with one asset job named `job` over `selection` (the domain's
    own `assets` unless told); its sensors and schedules name that job."""
    asset_job = define_asset_job(
        job,
        selection=AssetSelection.assets(*assets) if selection is None else selection,
        description=job_description,
    )
    return Definitions(
        assets=assets,
        asset_checks=asset_checks,
        jobs=[asset_job],
        sensors=sensors,
        schedules=schedules,
        resources=resources,
    )
