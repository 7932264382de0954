"""The privacy domain's Dagster definitions: the forget_requests asset, its job and the sensor
on landing forget/."""

from dagster import AssetSelection, Definitions, define_asset_job

from identity_pipeline.privacy.assets import forget_requests
from identity_pipeline.privacy.sensors import forget_request_files_sensor

forget_requests_job = define_asset_job(
    "forget_requests_job",
    selection=AssetSelection.assets(forget_requests),
    description="Process new request files in landing forget/: delete the persons they name, "
    "deny-list their identifiers, audit each request.",
)

defs = Definitions(
    assets=[forget_requests],
    jobs=[forget_requests_job],
    sensors=[forget_request_files_sensor],
)
