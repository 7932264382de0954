"""Jobs: named selections of assets that schedules, sensors and the CLI launch."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

ingest_contacts_job = define_asset_job(
    "ingest_contacts",
    selection=AssetSelection.groups("contacts"),
    description="Load new or changed contact files and rebuild the identity tables.",
)

attribution_job = define_asset_job(
    "attribution",
    selection=AssetSelection.groups("attribution"),
    description="Load impressions/conversions files and rebuild attribution for a day range.",
)
