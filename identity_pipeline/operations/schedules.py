"""Daily schedules: the mapping refresh, then yesterday's attribution."""

from dagster import ScheduleDefinition, build_schedule_from_partitioned_job
from dagster._core.definitions.partitions.partitioned_schedule import (
    UnresolvedPartitionedAssetScheduleDefinition,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from identity_pipeline import settings
from identity_pipeline.operations.status import schedule_status

daily_refresh_schedule = ScheduleDefinition(
    name="daily_refresh",
    job_name="refresh_mappings",
    cron_schedule=f"0 {settings.refresh_hour_utc()} * * *",
    execution_timezone="UTC",
    default_status=schedule_status(),
    description=f"Every day at ${settings.ENV_REFRESH_HOUR} (default "
    f"{settings.DEFAULT_REFRESH_HOUR}:00) UTC: apply suppression files, then re-map what is "
    "due to UID2 (new, refresh_from passed, rotated buckets) and ID5 (new, older than "
    "ID5_REFRESH_DAYS).",
)


def daily_attribution_schedule(
    attribution_job: UnresolvedAssetJobDefinition,
) -> UnresolvedPartitionedAssetScheduleDefinition:
    """Yesterday's attribution partition, an hour after the refresh has mapped new IDs."""
    schedule = build_schedule_from_partitioned_job(
        attribution_job,
        name="daily_attribution",
        hour_of_day=(settings.refresh_hour_utc() + 1) % 24,
        default_status=schedule_status(),
        description="Every day, an hour after daily_refresh: the attribution job for yesterday's "
        "partition (late files re-run older days through attribution_landing_sensor).",
    )
    assert isinstance(schedule, UnresolvedPartitionedAssetScheduleDefinition)
    return schedule
