"""`identity-pipeline run JOB`: one job, in this process, on the shared Dagster instance.

The run, its materializations and check results land in the same instance the demo and
`identity-pipeline ui` use (see dagster_instance.py), and the instance's pools hold: a UID2 or
ID5 step waits while another run's step of the same pool is running.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta

from identity_pipeline import settings
from identity_pipeline.dagster_instance import use_project_instance


def run_job(name: str, first: date | None = None, last: date | None = None) -> int:
    """Execute job `name`; a partitioned job runs the days first..last (default yesterday,
    UTC) as one ranged run, as a backfill does. Returns a process exit code."""
    home = use_project_instance()
    from dagster import DagsterInstance

    from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
    from identity_pipeline.definitions import defs

    names = sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__"))
    if name not in names:
        print(f"error: no job {name!r}; jobs are: {', '.join(names)}", file=sys.stderr)
        return 2
    job = defs.resolve_job_def(name)
    tags: dict[str, str] = {}
    if job.partitions_def is not None:
        yesterday = settings.now().date() - timedelta(days=1)
        first, last = first or last or yesterday, last or first or yesterday
        if last < first:
            print(f"error: --to {last} is before --from {first}", file=sys.stderr)
            return 2
        tags = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
    elif first or last:
        print(f"error: job {name} is not partitioned; drop --from/--to", file=sys.stderr)
        return 2
    print(f"Dagster instance: {home}", flush=True)
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, run_config=run_config, tags=tags, raise_on_error=False
        )
    outcome = "succeeded" if result.success else "failed"
    print(f"run {result.run_id} of {name} {outcome}; see it in the UI: identity-pipeline ui")
    return 0 if result.success else 1
