"""Jobs: named selections of assets that schedules, sensors and the CLI launch."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

ingest_contacts_job = define_asset_job(
    "ingest_contacts",
    selection=AssetSelection.groups("contacts"),
    description="Load new or changed contact files and rebuild the identity tables.",
)

uid2_refresh_job = define_asset_job(
    "uid2_refresh",
    selection=AssetSelection.assets("optouts", "uid2_due_for_refresh", "uid2_mapping"),
    description="Apply suppression files, then map to UID2 every identity that is due.",
)

id5_refresh_job = define_asset_job(
    "id5_refresh",
    selection=AssetSelection.assets(
        "optouts", "id5_due_for_refresh", "id5_mapping", "id5_uid_history"
    ),
    description="Apply suppression files, then map to ID5 every email that is due.",
)

refresh_mappings_job = define_asset_job(
    "refresh_mappings",
    selection=AssetSelection.assets("optouts") | AssetSelection.groups("uid2", "id5"),
    description="The daily refresh: apply opt-outs, then map everything that is due to UID2 "
    "and ID5.",
)

contacts_arrived_job = define_asset_job(
    "contacts_arrived",
    selection=AssetSelection.groups("contacts")
    | AssetSelection.assets("optouts")
    | AssetSelection.groups("uid2", "id5"),
    description="New contact files: ingest them, then map the identities they bring.",
)

apply_optouts_job = define_asset_job(
    "apply_optouts",
    selection=AssetSelection.assets("optouts"),
    description="Load new suppression files and clear the IDs of everyone they name.",
)

attribution_job = define_asset_job(
    "attribution",
    selection=AssetSelection.groups("attribution"),
    description="Load impressions/conversions files and rebuild attribution for a day range.",
)
