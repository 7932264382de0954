"""The attribution domain's Dagster definitions: the daily-partitioned assets, the attribution
job, its daily schedule and the landing sensor.

Partitions and lookback shape the asset graph, so they are read when definitions load.
"""

import warnings

from dagster import (
    AssetSelection,
    BetaWarning,
    Definitions,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from identity_pipeline import settings
from identity_pipeline.attribution.assets import GROUP, build_attribution_assets, daily_partitions
from identity_pipeline.attribution.sensors import build_landing_sensor
from identity_pipeline.automation import schedule_status

attribution_days = daily_partitions(settings.attribution_start_date())
lookback_days = settings.attribution_lookback_days()

attribution_job = define_asset_job(
    "attribution",
    selection=AssetSelection.groups(GROUP),
    description="Load impressions/conversions files and rebuild attribution for a day range.",
)

daily_attribution_schedule = build_schedule_from_partitioned_job(
    attribution_job,
    name="daily_attribution",
    hour_of_day=(settings.refresh_hour_utc() + 1) % 24,
    default_status=schedule_status(),
    description="Every day, an hour after daily_refresh: the attribution job for yesterday's "
    "partition (late files re-run older days through attribution_landing_sensor).",
)
"""Yesterday's attribution partition, an hour after the refresh has mapped new IDs."""

with warnings.catch_warnings():
    # backfill_policy (a whole backfill range in one run) is a beta parameter of @asset in
    # Dagster 1.13; we use it on purpose, so its warning is nothing a user could act on.
    warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
    attribution_assets = build_attribution_assets(attribution_days, lookback_days)

defs = Definitions(
    assets=attribution_assets,
    jobs=[attribution_job],
    schedules=[daily_attribution_schedule],
    sensors=[build_landing_sensor(attribution_job.name, attribution_days, lookback_days)],
)
