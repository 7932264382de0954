"""The Dagster side of landed files: a pass's materialization metadata, and the sensor that
launches a job when a landing folder gains new or changed (settled) files."""

from __future__ import annotations

from typing import Any

from dagster import (
    MetadataValue,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from identity_pipeline.automation import sensor_status
from identity_pipeline.landing.files import FileReport
from identity_pipeline.landing.readers import SUPPORTED_SUFFIXES
from identity_pipeline.landing.watch import changed_files, run_key
from identity_pipeline.resources import LandingArea


def file_metadata(report: FileReport) -> dict[str, Any]:
    """files_seen/loaded/unchanged/failed and the failed files' reasons, for MaterializeResult."""
    return {
        "files_seen": report.files_seen,
        "files_loaded": report.files_loaded,
        "files_unchanged": report.files_unchanged,
        "files_failed": len(report.files_failed),
        "failed_files": MetadataValue.md(
            "\n".join(f"- {m}" for m in report.files_failed) or "none"
        ),
    }


def landing_folder_sensor(
    what: str,
    folder: str,
    job_name: str,
    description: str,
    *,
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
    **run_config: Any,
) -> SensorDefinition:
    """`{what}_files_sensor`: new or changed files in the landing area's `folder`/ → one run of
    `job_name` (tagged identity_pipeline/trigger={what}_files, with `run_config`); the same
    files in the same state never launch a second run (the run key is the cursor's hash).
    `suffixes`: which files count (landing.readers.EVENT_SUFFIXES for events/)."""

    @sensor(
        name=f"{what}_files_sensor",
        job_name=job_name,
        minimum_interval_seconds=30,
        default_status=sensor_status(),
        description=description,
    )
    def _sensor(context: SensorEvaluationContext, landing: LandingArea) -> SensorResult:
        changed, cursor = changed_files(landing.root / folder, context.cursor, suffixes=suffixes)
        if not changed:
            return SensorResult(skip_reason=f"no new or changed {what} files", cursor=cursor)
        context.log.info(f"{len(changed)} new or changed {what} file(s)")
        request = RunRequest(
            run_key=run_key(folder, cursor),
            run_config=run_config or None,
            tags={"identity_pipeline/trigger": f"{what}_files"},
        )
        return SensorResult(run_requests=[request], cursor=cursor)

    return _sensor
