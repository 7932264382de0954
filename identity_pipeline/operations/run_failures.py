"""Every failed run leaves a log line and a row in run_failures, with no external service.

Our errors name the batch, the attempts and the last reason, and never carry DII or secrets;
only the first line of each step's error is kept, so a stack trace's locals cannot leak in.
"""

from dagster import (
    DagsterEventType,
    RunFailureSensorContext,
    run_failure_sensor,
)
from dagster_shared.error import SerializableErrorInfo

from identity_pipeline import settings
from identity_pipeline.automation import sensor_status
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.warehouse import naive_utc


def _root_cause(error: SerializableErrorInfo) -> str:
    """The innermost error's first line, without its module path: Dagster wraps ours."""
    while error.cause is not None:
        error = error.cause
    text = (error.message or "").strip()
    first = text.splitlines()[0] if text else (error.cls_name or "error")
    head, sep, tail = first.partition(": ")
    return f"{head.rsplit('.', 1)[-1]}{sep}{tail}" if sep else first


def failure_summary(context: RunFailureSensorContext) -> tuple[str, str]:
    """(failed step keys, message): each failed step's error, first line, or the run's."""
    entries = context.instance.all_logs(
        context.dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE
    )
    steps: list[str] = []
    lines: list[str] = []
    for entry in entries:
        if entry.dagster_event is None:
            continue
        step = entry.dagster_event.step_key or "?"
        data = entry.dagster_event.step_failure_data
        error = _root_cause(data.error) if data and data.error else "failed"
        steps.append(step)
        lines.append(f"{step}: {error[:500]}")
    if not lines:
        lines.append(context.failure_event.message or "run failed")
    return ", ".join(steps), " | ".join(lines)


@run_failure_sensor(
    name="run_failure_recorder",
    monitor_all_code_locations=False,
    default_status=sensor_status(),
    description="Logs every failed run and records it in the run_failures table.",
)
def run_failure_recorder(context: RunFailureSensorContext, warehouse: DuckDBWarehouse) -> None:
    run = context.dagster_run
    steps, message = failure_summary(context)
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO run_failures VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMP)) "
            "ON CONFLICT (run_id) DO NOTHING",
            [run.run_id, run.job_name, steps, message, naive_utc(settings.now())],
        )
