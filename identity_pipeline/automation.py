"""Whether schedules and sensors start on their own: one switch, $IDENTITY_PIPELINE_AUTOMATION."""

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from identity_pipeline import settings


def sensor_status() -> DefaultSensorStatus:
    return (
        DefaultSensorStatus.RUNNING
        if settings.automation_running()
        else DefaultSensorStatus.STOPPED
    )


def schedule_status() -> DefaultScheduleStatus:
    if settings.automation_running():
        return DefaultScheduleStatus.RUNNING
    return DefaultScheduleStatus.STOPPED
