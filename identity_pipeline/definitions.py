"""Assembles the Dagster definitions; no logic lives here."""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, EnvVar, in_process_executor

from identity_pipeline import settings
from identity_pipeline.attribution.assets import build_attribution_assets, daily_partitions
from identity_pipeline.attribution.sensors import build_landing_sensor
from identity_pipeline.contacts.assets import contact_identities, raw_contacts
from identity_pipeline.contacts.checks import (
    contact_counts_reconcile,
    contact_files_readable,
    dii_unique,
    no_raw_dii_in_derived_tables,
)
from identity_pipeline.contacts.sensors import contact_files_sensor
from identity_pipeline.id5 import client as id5_client
from identity_pipeline.id5.assets import id5_due_for_refresh, id5_mapping
from identity_pipeline.jobs import (
    apply_optouts_job,
    attribution_job,
    contacts_arrived_job,
    id5_refresh_job,
    ingest_contacts_job,
    refresh_mappings_job,
    uid2_refresh_job,
)
from identity_pipeline.operations.run_failures import run_failure_recorder
from identity_pipeline.operations.schedules import (
    daily_attribution_schedule,
    daily_refresh_schedule,
)
from identity_pipeline.optouts.assets import optouts
from identity_pipeline.optouts.checks import optout_checks
from identity_pipeline.optouts.sensors import suppression_files_sensor
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.uid2 import client as uid2_client
from identity_pipeline.uid2.assets import uid2_due_for_refresh, uid2_mapping
from identity_pipeline.uid2.checks import uid2_refresh_from_in_future

# Partitions and lookback shape the asset graph, so they are read when definitions load.
attribution_days = daily_partitions(settings.attribution_start_date())
lookback_days = settings.attribution_lookback_days()
with warnings.catch_warnings():
    # backfill_policy (a whole backfill range in one run) is a beta parameter of @asset in
    # Dagster 1.13; we use it on purpose, so its warning is nothing a user could act on.
    warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
    attribution_assets = build_attribution_assets(attribution_days, lookback_days)

defs = Definitions(
    assets=[
        raw_contacts,
        contact_identities,
        optouts,
        uid2_due_for_refresh,
        uid2_mapping,
        id5_due_for_refresh,
        id5_mapping,
        *attribution_assets,
    ],
    asset_checks=[
        dii_unique,
        contact_files_readable,
        contact_counts_reconcile,
        no_raw_dii_in_derived_tables,
        uid2_refresh_from_in_future,
        *optout_checks(["optouts", "uid2_mapping", "id5_mapping"]),
    ],
    jobs=[
        ingest_contacts_job,
        uid2_refresh_job,
        id5_refresh_job,
        refresh_mappings_job,
        contacts_arrived_job,
        apply_optouts_job,
        attribution_job,
    ],
    schedules=[daily_refresh_schedule, daily_attribution_schedule(attribution_job)],
    sensors=[
        contact_files_sensor,
        suppression_files_sensor,
        run_failure_recorder,
        build_landing_sensor(attribution_job.name, attribution_days, lookback_days),
    ],
    resources={
        "warehouse": DuckDBWarehouse(),
        "landing": LandingArea(),
        "uid2": uid2_client.UID2Client(
            base_url=EnvVar(uid2_client.ENV_BASE_URL),
            api_key=EnvVar(uid2_client.ENV_API_KEY),
            secret_key=EnvVar(uid2_client.ENV_SECRET_KEY),
        ),
        "id5": id5_client.ID5Client(
            base_url=EnvVar(id5_client.ENV_BASE_URL),
            partner_id=EnvVar.int(id5_client.ENV_PARTNER_ID),
            token=EnvVar(id5_client.ENV_TOKEN),
        ),
    },
    # One process per run: DuckDB allows a single writing process per file.
    executor=in_process_executor,
)
