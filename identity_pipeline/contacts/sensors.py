"""New or changed contact files → ingest them and map the identities they bring."""

from dagster import (
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from identity_pipeline.landing.watch import changed_files, run_key
from identity_pipeline.operations.status import sensor_status
from identity_pipeline.resources import LandingArea


@sensor(
    job_name="contacts_arrived",
    minimum_interval_seconds=30,
    default_status=sensor_status(),
    description="New or changed files in landing contacts/ → ingest them and map only the "
    "identities never mapped before (refreshes wait for the daily schedule).",
)
def contact_files_sensor(context: SensorEvaluationContext, landing: LandingArea) -> SensorResult:
    changed, cursor = changed_files(landing.contacts_dir, context.cursor)
    if not changed:
        return SensorResult(skip_reason="no new or changed contact files", cursor=cursor)
    context.log.info(f"{len(changed)} new or changed contact file(s)")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=run_key("contacts", cursor),
                # Config of uid2/id5 *_due_for_refresh (UID2DueConfig, ID5DueConfig), by name.
                run_config={
                    "ops": {
                        "uid2_due_for_refresh": {"config": {"only_new": True}},
                        "id5_due_for_refresh": {"config": {"only_new": True}},
                    }
                },
                tags={"identity_pipeline/trigger": "contact_files"},
            )
        ],
        cursor=cursor,
    )
