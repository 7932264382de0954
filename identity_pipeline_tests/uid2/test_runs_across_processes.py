"""Real runs in separate processes with the project's dagster.yaml: the uid2_api pool lets one
step at a time reach the operator, and a run killed mid-way resumes where it stopped."""

import signal
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from identity_pipeline.sandboxes.uid2 import UID2Sandbox
from identity_pipeline_tests.dagster_processes import (
    assert_one_step_at_a_time,
    finish,
    instance_env,
    wait_for_requests,
)
from identity_pipeline_tests.uid2.conftest import database, query, seed_dii

pytestmark = pytest.mark.integration

SELECT = "uid2_due_for_refresh,uid2_mapping"


def _env(workspace: Path, sandbox: UID2Sandbox) -> dict[str, str]:
    return instance_env(
        workspace,
        UID2_BASE_URL=sandbox.base_url,
        UID2_API_KEY=sandbox.config.api_key,
        UID2_SECRET_KEY=sandbox.config.secret,
    )


def _recover_dead_run(home: Path) -> None:
    """What run monitoring does for a run whose process died: mark it failed, free its slot.

    The test runs no daemon, so it takes both steps itself, as a user would by terminating the
    run in the UI.
    """
    with DagsterInstance.from_config(str(home)) as instance:
        (dead,) = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        storage = instance.event_log_storage
        assert storage.get_concurrency_info("uid2_api").active_run_ids == {dead.run_id}
        instance.report_run_failed(dead)
        storage.free_concurrency_slots_for_run(dead.run_id)
        assert storage.get_concurrency_info("uid2_api").active_run_ids == set()


def test_second_run_waits_for_the_pool_and_requests_never_overlap(
    workspace: Path, uid2_sandbox, dagster_materialize
) -> None:
    # --reject-parallel: any overlapping request would get a 429 and show up in by_status.
    # 8 batches of 1.5 s keep the first run on the operator for 12 s or more: long enough for
    # the second process to start and reach the pool even on a loaded machine.
    sandbox = uid2_sandbox(latency_ms=1500, reject_parallel=True)
    seed_dii(database(), 40_000)
    env = _env(workspace, sandbox)
    first = dagster_materialize(env, SELECT, workspace / "first.log")
    wait_for_requests(sandbox, 1)
    second = dagster_materialize(env, SELECT, workspace / "second.log")
    finish(first, workspace / "first.log")
    second_log = finish(second, workspace / "second.log")

    assert "Step blocked by limit for pool uid2_api" in second_log
    assert_one_step_at_a_time(env, {"uid2_due_for_refresh", "uid2_mapping"}, runs=2)
    stats = sandbox.stats
    assert stats.max_concurrent == 1
    assert stats.by_status == {200: stats.requests}
    assert stats.identifiers == 40_000  # the second run found nothing left to send
    assert query("SELECT count(*), count(DISTINCT dii_id) FROM uid2_mapping") == [(40_000, 40_000)]


def test_killed_run_keeps_finished_batches_and_the_next_run_sends_only_the_rest(
    workspace: Path, uid2_sandbox, dagster_materialize
) -> None:
    sandbox = uid2_sandbox(latency_ms=700)
    seed_dii(database(), 40_000)  # 8 batches of 5,000
    env = _env(workspace, sandbox)
    run = dagster_materialize(env, SELECT, workspace / "killed.log")
    wait_for_requests(sandbox, 4)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    _recover_dead_run(Path(env["DAGSTER_HOME"]))
    time.sleep(1.5)  # let the sandbox finish (and count) the dead run's last request

    kept = query("SELECT count(*) FROM uid2_mapping")[0][0]
    assert kept % 5_000 == 0 and 5_000 <= kept < 40_000  # whole batches only
    sent_before = sandbox.stats.identifiers

    resumed = dagster_materialize(env, SELECT, workspace / "resumed.log")
    finish(resumed, workspace / "resumed.log")
    assert sandbox.stats.identifiers - sent_before == 40_000 - kept
    assert query("SELECT count(*), count(DISTINCT dii_id), max(attempts) FROM uid2_mapping") == [
        (40_000, 40_000, 1)
    ]
