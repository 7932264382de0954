"""Real runs in separate processes with the project's dagster.yaml: the id5_api pool lets one
step at a time reach ID5, so a second run waits and then finds nothing left to send."""

from pathlib import Path

import pytest

from identity_pipeline.sandboxes.id5 import ID5Sandbox
from identity_pipeline_tests.dagster_processes import (
    assert_one_step_at_a_time,
    finish,
    instance_env,
    wait_for_requests,
)
from identity_pipeline_tests.uid2.conftest import database, query, seed_dii

pytestmark = pytest.mark.integration

SELECT = "id5_due_for_refresh,id5_mapping,id5_uid_history"
EMAILS = 4_000  # seed_dii makes four in five identities emails: 4 batches of 1,000


def _env(workspace: Path, sandbox: ID5Sandbox) -> dict[str, str]:
    return instance_env(
        workspace,
        ID5_BASE_URL=sandbox.base_url,
        ID5_PARTNER_ID=str(sandbox.config.partner),
        ID5_TOKEN=sandbox.config.token,
    )


def test_second_run_waits_for_the_pool_and_requests_never_overlap(
    workspace: Path, id5_sandbox, dagster_materialize
) -> None:
    # reject_parallel: any overlapping request would get a 429 and show up in by_status.
    sandbox = id5_sandbox(latency_ms=1500, reject_parallel=True)
    seed_dii(database(), EMAILS * 5 // 4)
    env = _env(workspace, sandbox)
    first = dagster_materialize(env, SELECT, workspace / "first.log")
    wait_for_requests(sandbox, 1)  # the first run is inside id5_mapping, holding the slot
    second = dagster_materialize(env, SELECT, workspace / "second.log")
    first_log = finish(first, workspace / "first.log")
    second_log = finish(second, workspace / "second.log")

    # These two pin the pool itself. The sandbox counts below would also hold without it, since
    # id5_mapping keeps the DuckDB file (one writer) for its whole step and so serializes the
    # runs too; with the pool removed or its limit raised, both assertions here fail.
    assert "Step blocked by limit for pool id5_api" in second_log
    assert_one_step_at_a_time(env, {"id5_due_for_refresh", "id5_mapping"}, runs=2)
    assert "ID5: sent 4000 users in 4 batch(es)" in first_log
    assert "ID5: 0 email(s) due" in second_log
    stats = sandbox.stats
    assert stats.max_concurrent == 1
    assert stats.by_status == {200: stats.requests} and stats.requests == 4
    # Every email was mapped and ID5 received exactly as many users as there are emails, so
    # each hash was sent exactly once; the second run found nothing left to send.
    assert stats.users_received == EMAILS
    assert query(
        "SELECT count(*), count(DISTINCT dii_id), count(DISTINCT id5_hash), "
        "count(*) FILTER (WHERE status = 'mapped') FROM id5_mapping"
    ) == [(EMAILS, EMAILS, EMAILS, EMAILS)]
    assert query("SELECT count(*) FROM dii WHERE dii_type = 'email'") == [(EMAILS,)]
    assert query("SELECT count(*), count(DISTINCT dii_id) FROM id5_uid_history") == [
        (EMAILS, EMAILS)
    ]
