"""The contacts domain's Dagster definitions: ingestion assets, their checks, jobs and sensor."""

from dagster import AssetSelection, Definitions, define_asset_job

from identity_pipeline.contacts.assets import GROUP, contact_identities, raw_contacts
from identity_pipeline.contacts.checks import (
    contact_counts_reconcile,
    contact_files_readable,
    dii_unique,
    no_raw_dii_in_derived_tables,
)
from identity_pipeline.contacts.sensors import contact_files_sensor

ingest_contacts_job = define_asset_job(
    "ingest_contacts",
    selection=AssetSelection.groups(GROUP),
    description="Load new or changed contact files and rebuild the identity tables.",
)

contacts_arrived_job = define_asset_job(
    "contacts_arrived",
    selection=AssetSelection.groups(GROUP)
    | AssetSelection.assets("optouts")
    | AssetSelection.groups("uid2", "id5"),
    description="New contact files: ingest them, then map the identities they bring.",
)

defs = Definitions(
    assets=[raw_contacts, contact_identities],
    asset_checks=[
        dii_unique,
        contact_files_readable,
        contact_counts_reconcile,
        no_raw_dii_in_derived_tables,
    ],
    jobs=[ingest_contacts_job, contacts_arrived_job],
    sensors=[contact_files_sensor],
)
