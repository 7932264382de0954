"""Running the pipeline unattended: the daily refresh job and schedule, and the failed-run
recorder."""

from dagster import Definitions

from identity_pipeline.operations.run_failures import run_failure_recorder
from identity_pipeline.operations.schedules import daily_refresh_schedule, refresh_mappings_job

defs = Definitions(
    jobs=[refresh_mappings_job],
    schedules=[daily_refresh_schedule],
    sensors=[run_failure_recorder],
)
