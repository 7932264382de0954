"""A new suppression file → apply the opt-outs at once, not at the next daily refresh."""

from dagster import RunRequest, SensorEvaluationContext, SensorResult, sensor

from identity_pipeline.landing.watch import changed_files, run_key
from identity_pipeline.operations.status import sensor_status
from identity_pipeline.resources import LandingArea


@sensor(
    job_name="apply_optouts",
    minimum_interval_seconds=30,
    default_status=sensor_status(),
    description="New or changed files in landing optouts/ → load them and clear the IDs of "
    "everyone they name.",
)
def suppression_files_sensor(
    context: SensorEvaluationContext, landing: LandingArea
) -> SensorResult:
    changed, cursor = changed_files(landing.optouts_dir, context.cursor)
    if not changed:
        return SensorResult(skip_reason="no new or changed suppression files", cursor=cursor)
    context.log.info(f"{len(changed)} new or changed suppression file(s)")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=run_key("optouts", cursor),
                tags={"identity_pipeline/trigger": "suppression_files"},
            )
        ],
        cursor=cursor,
    )
