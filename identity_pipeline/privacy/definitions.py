"""The privacy domain's Dagster definitions: the forget_requests asset, its job and the sensor
on landing forget/."""

from identity_pipeline.domain import domain_definitions
from identity_pipeline.privacy.assets import forget_requests
from identity_pipeline.privacy.sensors import forget_request_files_sensor

defs = domain_definitions(
    job="forget_requests_job",
    job_description="Process new request files in landing forget/: delete the persons they "
    "name, deny-list their identifiers, audit each request.",
    assets=[forget_requests],
    sensors=[forget_request_files_sensor],
)
