"""The daily refresh: apply opt-outs, then map everything that is due to UID2 and ID5."""

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

from identity_pipeline import settings
from identity_pipeline.automation import schedule_status

refresh_mappings_job = define_asset_job(
    "refresh_mappings",
    selection=AssetSelection.assets("optouts") | AssetSelection.groups("uid2", "id5"),
    description="The daily refresh: apply opt-outs, then map everything that is due to UID2 "
    "and ID5.",
)

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
