"""A new request file in landing forget/ → process it at once, not at the next refresh."""

from identity_pipeline.landing.sensors import landing_folder_sensor
from identity_pipeline.privacy.files import FOLDER

forget_request_files_sensor = landing_folder_sensor(
    "forget_request",
    FOLDER,
    "forget_requests_job",
    "New or changed files in landing forget/ → forget the persons they name.",
)
