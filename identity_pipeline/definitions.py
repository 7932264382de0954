"""Assembles the Dagster definitions; no logic lives here."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from identity_pipeline.contacts.assets import contact_identities, raw_contacts
from identity_pipeline.contacts.checks import contact_files_readable, dii_unique
from identity_pipeline.jobs import ingest_contacts_job
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

defs = Definitions(
    assets=[raw_contacts, contact_identities],
    asset_checks=[dii_unique, contact_files_readable],
    jobs=[ingest_contacts_job],
    resources={"warehouse": DuckDBWarehouse(), "landing": LandingArea()},
    # One process per run: DuckDB allows a single writing process per file.
    executor=in_process_executor,
)
