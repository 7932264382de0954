"""Assembles the Dagster definitions; no logic lives here."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from identity_pipeline import settings
from identity_pipeline.attribution.assets import build_attribution_assets, daily_partitions
from identity_pipeline.attribution.sensors import build_landing_sensor
from identity_pipeline.contacts.assets import contact_identities, raw_contacts
from identity_pipeline.contacts.checks import contact_files_readable, dii_unique
from identity_pipeline.jobs import attribution_job, ingest_contacts_job
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

# Partitions and lookback shape the asset graph, so they are read when definitions load.
attribution_days = daily_partitions(settings.attribution_start_date())
lookback_days = settings.attribution_lookback_days()

defs = Definitions(
    assets=[
        raw_contacts,
        contact_identities,
        *build_attribution_assets(attribution_days, lookback_days),
    ],
    asset_checks=[dii_unique, contact_files_readable],
    jobs=[ingest_contacts_job, attribution_job],
    sensors=[build_landing_sensor(attribution_job.name, attribution_days, lookback_days)],
    resources={"warehouse": DuckDBWarehouse(), "landing": LandingArea()},
    # One process per run: DuckDB allows a single writing process per file.
    executor=in_process_executor,
)
