"""ID5 mapping through Dagster against the sandbox: due list, errors, faults, rotation, lineage."""

from pathlib import Path

import pytest
from dagster import DagsterInstance

from identity_pipeline.reporting.charts import PNG_SIGNATURE, image_of
from identity_pipeline_tests.id5.conftest import client_for, pin_clock, run_id5
from identity_pipeline_tests.uid2.conftest import database, metadata, query, seed_dii


def test_maps_every_email_once_and_never_sends_phones(
    workspace: Path, instance: DagsterInstance, id5_sandbox
) -> None:
    sandbox = id5_sandbox()
    seed_dii(database(), 2_500)  # 2,000 emails, 500 phones
    result = run_id5(client_for(sandbox, batch_size=700), instance)
    assert result.success
    meta = metadata(result, "id5_mapping")
    assert (meta["identities_sent"], meta["batches"], meta["mapped"]) == (2_000, 3, 2_000)
    assert (meta["errors"], meta["retries"], meta["rotated"]) == (0, 0, 0)
    assert image_of(meta["status_chart"]).startswith(PNG_SIGNATURE)
    assert sandbox.stats.users_received == 2_000
    assert query(
        "SELECT count(*), count(DISTINCT dii_id), count(DISTINCT id5_uid), "
        "count(*) FILTER (WHERE status = 'mapped' AND country_alpha2 = 'AA'), "
        "count(previous_id5_uid), count(error_code) FROM id5_mapping"
    ) == [(2_000, 2_000, 2_000, 2_000, 0, 0)]
    assert query(
        "SELECT count(*) FILTER (WHERE d.dii_type <> 'email' OR d.id5_hash <> m.id5_hash) "
        "FROM id5_mapping AS m JOIN dii AS d USING (dii_id)"
    ) == [(0,)]
    assert query(
        "SELECT count(*) FROM id5_uid_history AS h JOIN id5_mapping AS m USING (dii_id, id5_uid) "
        "WHERE h.first_seen_at = m.mapped_at AND h.last_seen_at = m.mapped_at"
    ) == [(2_000,)]
    assert metadata(result, "id5_uid_history")["dagster/row_count"] == 2_000
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert sandbox.stats.max_concurrent == 1

    # A second run right away has nothing due and sends nothing.
    again = run_id5(client_for(sandbox), instance)
    assert metadata(again, "id5_due_for_refresh")["dagster/row_count"] == 0
    assert metadata(again, "id5_mapping")["identities_sent"] == 0
    assert sandbox.stats.users_received == 2_000


def test_due_list_holds_new_emails_and_those_older_than_the_refresh_days(
    workspace: Path, instance: DagsterInstance, id5_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = id5_sandbox()
    monkeypatch.delenv("ID5_REFRESH_DAYS", raising=False)
    seed_dii(database(), 500)  # 400 emails
    pin_clock(monkeypatch, sandbox)
    assert run_id5(client_for(sandbox), instance).success

    sandbox.advance_days(3)
    pin_clock(monkeypatch, sandbox)
    seed_dii(database(), 100, first_id=501)  # 80 new emails
    result = run_id5(client_for(sandbox), instance)
    assert metadata(result, "id5_due_for_refresh")["by_reason"] == {"never_mapped": 80}
    assert metadata(result, "id5_mapping")["identities_sent"] == 80

    sandbox.advance_days(5)  # day 8: the first 400 are past 7 days, the 80 are 5 days old
    pin_clock(monkeypatch, sandbox)
    seed_dii(database(), 5, first_id=601)  # 4 new emails
    # A run for a new contact file (only_new) leaves refreshes to the scheduled run.
    result = run_id5(client_for(sandbox), instance, only_new=True)
    assert metadata(result, "id5_due_for_refresh")["by_reason"] == {"never_mapped": 4}
    result = run_id5(client_for(sandbox), instance)
    due = metadata(result, "id5_due_for_refresh")
    assert due["by_reason"] == {"refresh_due": 400}
    assert due["with_known_uid"] == 400  # every refresh carries the ID we hold
    assert metadata(result, "id5_mapping")["identities_sent"] == 400

    monkeypatch.setenv("ID5_REFRESH_DAYS", "4")
    result = run_id5(client_for(sandbox), instance)
    assert metadata(result, "id5_due_for_refresh")["by_reason"] == {"refresh_due": 80}
    assert metadata(result, "id5_due_for_refresh")["refresh_days"] == 4
    assert sandbox.stats.users_received == 400 + 80 + 4 + 400 + 80


def test_a_failed_run_keeps_finished_batches_and_the_next_sends_only_the_rest(
    workspace: Path, instance: DagsterInstance, id5_sandbox
) -> None:
    # The burst (2 requests) passes, then the rate limit answers 429 for longer than the budget.
    sandbox = id5_sandbox(rate_limit_rps=2, token="tok-failed-run-9a7")
    seed_dii(database(), 250)  # 200 emails
    impatient = client_for(sandbox, batch_size=20, max_retry_seconds=0.1)
    failed = run_id5(impatient, instance)
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.is_step_failure]
    message = str(failure.event_specific_data)
    assert "ID5 batch" in message and "gave up after" in message and "HTTP 429" in message
    assert "tok-failed-run-9a7" not in message
    kept = query("SELECT count(*) FROM id5_mapping")[0][0]
    assert kept % 20 == 0 and 0 < kept < 200  # whole batches only
    received = sandbox.stats.users_received

    result = run_id5(client_for(sandbox, max_retry_seconds=30), instance)  # one request
    assert result.success
    assert metadata(result, "id5_due_for_refresh")["by_reason"] == {"never_mapped": 200 - kept}
    assert sandbox.stats.users_received - received == 200 - kept
    assert query("SELECT count(*), count(DISTINCT dii_id) FROM id5_mapping") == [(200, 200)]


def test_rejected_users_are_stored_and_resent_only_when_seen_again(
    workspace: Path, instance: DagsterInstance, id5_sandbox
) -> None:
    sandbox = id5_sandbox()
    seed_dii(database(), 50)  # 40 emails; ids 1-4 are emails
    query("UPDATE dii SET id5_hash = left(id5_hash, 63) WHERE dii_id BETWEEN 1 AND 4")
    # Batch 1 is ids 1-4 alone, all invalid: ID5 answers HTTP 400 user_objects_invalid with
    # each user's error, which is stored like any other answer.
    result = run_id5(client_for(sandbox, batch_size=4), instance)
    assert result.success
    meta = metadata(result, "id5_mapping")
    assert (meta["mapped"], meta["errors"], meta["batches"]) == (36, 4, 10)
    assert query(
        "SELECT dii_id, status, error_code, id5_uid FROM id5_mapping WHERE status <> 'mapped' "
        "ORDER BY dii_id"
    ) == [(i, "error", "sha256_length_invalid", None) for i in range(1, 5)]
    assert all(check.passed for check in result.get_asset_check_evaluations())

    assert run_id5(client_for(sandbox), instance).success
    assert sandbox.stats.users_received == 40  # not resent blindly

    query("UPDATE dii SET last_seen_at = TIMESTAMP '2026-06-01' WHERE dii_id = 2")
    result = run_id5(client_for(sandbox), instance)
    assert metadata(result, "id5_due_for_refresh")["by_reason"] == {"seen_again": 1}
    assert sandbox.stats.users_received == 41
    assert query("SELECT status, attempts FROM id5_mapping WHERE dii_id = 2") == [("error", 2)]


def test_heavy_faults_still_map_every_email_exactly_once(
    workspace: Path, instance: DagsterInstance, id5_sandbox
) -> None:
    sandbox = id5_sandbox(fault_rate=0.4, slow_reply_seconds=0.6, token="tok-faults-3c1e")
    seed_dii(database(), 3_750)  # 3,000 emails
    result = run_id5(client_for(sandbox, batch_size=100, read_timeout_seconds=0.3), instance)
    assert result.success
    meta = metadata(result, "id5_mapping")
    stats = sandbox.stats
    faults = sum(stats.faults.values())
    assert faults / stats.requests >= 0.3
    assert meta["retries"] >= faults * 0.9  # every fault the client saw was retried
    assert (meta["identities_sent"], meta["mapped"], meta["batches"]) == (3_000, 3_000, 30)
    assert query("SELECT count(*), count(DISTINCT dii_id), count(id5_uid) FROM id5_mapping") == [
        (3_000, 3_000, 3_000)
    ]
    assert query("SELECT count(*), count(DISTINCT dii_id) FROM id5_uid_history") == [(3_000, 3_000)]
    lost = query(
        "SELECT count(*) FROM dii LEFT JOIN id5_mapping AS m USING (dii_id) "
        "WHERE dii.dii_type = 'email' AND m.id5_uid IS NULL"
    )[0][0]
    assert lost == 0
    # Retries are logged (batch, reason, wait) without the token or any hash.
    logged = "\n".join(
        str(record.user_message) for record in instance.all_logs(result.run_id)
    ) + str([e.event_specific_data for e in result.all_events])
    assert "retry" in logged
    sample = [h for (h,) in query("SELECT id5_hash FROM dii WHERE id5_hash IS NOT NULL LIMIT 50")]
    for secret in ("tok-faults-3c1e", *sample):
        assert secret not in logged
    print(  # the closing note's figures; no identifiers
        f"ID5 fault run: {stats.requests} requests, faults {dict(stats.faults)} "
        f"({faults / stats.requests:.0%}), retries {meta['retries']} {meta['retry_reasons']}, "
        f"sent 3000, mapped {meta['mapped']}, rows {3_000}, lost {lost}"
    )


def test_rotation_over_simulated_days_keeps_every_id_in_history(
    workspace: Path, instance: DagsterInstance, id5_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = id5_sandbox(rotation_days=20)
    seed_dii(database(), 250)  # 200 emails
    pin_clock(monkeypatch, sandbox)
    assert run_id5(client_for(sandbox), instance).success
    held = dict(query("SELECT dii_id, id5_uid FROM id5_mapping"))
    figures = [f"day 0: 200 mapped, history {query('SELECT count(*) FROM id5_uid_history')[0][0]}"]
    rotated_total = 0
    for day, advance in ((8, 8), (28, 20), (48, 20)):
        sandbox.advance_days(advance)
        pin_clock(monkeypatch, sandbox)
        result = run_id5(client_for(sandbox), instance)
        assert result.success
        meta = metadata(result, "id5_mapping")
        assert meta["identities_sent"] == 200
        rows = query("SELECT dii_id, id5_uid, previous_id5_uid FROM id5_mapping")
        changed = {i: uid for i, uid, _ in rows if uid != held[i]}
        assert meta["rotated"] == len(changed)
        if advance == 20:  # a whole rotation period: everyone's ID changes
            assert len(changed) == 200
        else:  # 8 of 20 days: about 40% rotate
            assert 40 < len(changed) < 130
        # A new ID pushes the one we held into previous_id5_uid.
        assert all(prev == held[i] for i, uid, prev in rows if i in changed)
        held.update(changed)
        rotated_total += len(changed)
        history = query("SELECT count(*) FROM id5_uid_history")[0][0]
        assert history == 200 + rotated_total
        figures.append(f"day {day}: {len(changed)} rotated, history {history}")
        assert all(check.passed for check in result.get_asset_check_evaluations())

    # Every ID an identity ever held is in its history, once, newest = current.
    per_identity = query(
        "SELECT h.dii_id, count(*), count(DISTINCT h.id5_uid), "
        "arg_max(h.id5_uid, h.last_seen_at) = any_value(m.id5_uid), "
        "bool_and(h.first_seen_at <= h.last_seen_at) "
        "FROM id5_uid_history AS h JOIN id5_mapping AS m USING (dii_id) GROUP BY h.dii_id"
    )
    assert len(per_identity) == 200
    assert all(
        n == distinct and 3 <= n <= 4 and newest and ordered
        for _, n, distinct, newest, ordered in per_identity
    )
    # An ID seen again without rotating keeps its first_seen_at and moves last_seen_at.
    spans = query(
        "SELECT count(*) FROM id5_uid_history WHERE last_seen_at - first_seen_at "
        "BETWEEN INTERVAL 7 DAYS AND INTERVAL 9 DAYS"
    )[0][0]
    assert spans == 200 - (rotated_total - 400)
    print("ID5 rotation run (rotation every 20 days, refresh after 7): " + "; ".join(figures))


def test_known_uids_keep_the_lineage_id5_unified(
    workspace: Path, instance: DagsterInstance, id5_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending the ID we hold as known_uids makes ID5 answer within that ID's lineage.

    Identity 2 is made to hold identity 1's ID (as if ID5 had unified them elsewhere): after a
    refresh it is given exactly identity 1's current ID, which ID5 only does if the request
    carried that ID in known_uids; identity 3, left alone, keeps its own lineage.
    """
    sandbox = id5_sandbox()
    seed_dii(database(), 4)
    pin_clock(monkeypatch, sandbox)
    assert run_id5(client_for(sandbox), instance).success
    own = dict(query("SELECT dii_id, id5_uid FROM id5_mapping"))
    query(
        "UPDATE id5_mapping SET id5_uid = ?, mapped_at = mapped_at - INTERVAL 30 DAYS "
        "WHERE dii_id = 2",
        [own[1]],
    )
    query("UPDATE id5_mapping SET mapped_at = mapped_at - INTERVAL 30 DAYS WHERE dii_id = 3")
    result = run_id5(client_for(sandbox), instance)
    assert metadata(result, "id5_mapping")["identities_sent"] == 2
    after = dict(query("SELECT dii_id, id5_uid FROM id5_mapping"))
    assert after[2] == own[1] != own[2]
    assert after[3] == own[3]


def test_optouts_remove_id5_ids_and_exclude_identities_from_calls(
    workspace: Path, instance: DagsterInstance, id5_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = id5_sandbox()
    seed_dii(database(), 500)  # 400 emails
    pin_clock(monkeypatch, sandbox)
    assert run_id5(client_for(sandbox), instance).success
    sandbox.advance_days(8)
    pin_clock(monkeypatch, sandbox)
    assert run_id5(client_for(sandbox), instance).success  # some rotate: previous IDs held
    leavers = [
        (i, h) for i, h in query("SELECT dii_id, id5_hash FROM dii WHERE dii_id IN (3, 4, 6)")
    ]
    assert query("SELECT count(*) FROM id5_uid_history WHERE dii_id IN (3, 4, 6)")[0][0] >= 3
    # A suppression file naming them by hex SHA-256, as advertisers' lists often do.
    optouts_dir = workspace / "landing" / "optouts"
    optouts_dir.mkdir(parents=True)
    (optouts_dir / "suppressed.csv").write_text(
        "email_hash\n" + "".join(f"{h}\n" for _, h in leavers)
    )
    # And one new identity that UID2 answered 'optout' for: never sent to ID5 either.
    seed_dii(database(), 1, first_id=1_001)
    query(
        "INSERT INTO uid2_mapping (dii_id, uid2_hash, dii_type, status, mapped_at, attempts) "
        "SELECT dii_id, uid2_hash, dii_type, 'optout', TIMESTAMP '2026-01-02', 1 FROM dii "
        "WHERE dii_id = 1001"
    )
    received = sandbox.stats.users_received
    result = run_id5(client_for(sandbox), instance)
    assert result.success
    assert metadata(result, "id5_mapping")["identities_sent"] == 0
    assert sandbox.stats.users_received == received
    assert query(
        "SELECT dii_id, status, id5_uid, previous_id5_uid FROM id5_mapping "
        "WHERE dii_id IN (3, 4, 6) ORDER BY dii_id"
    ) == [(3, "optout", None, None), (4, "optout", None, None), (6, "optout", None, None)]
    assert query("SELECT count(*) FROM id5_uid_history WHERE dii_id IN (3, 4, 6)") == [(0,)]
    checks = {
        (c.asset_key.to_user_string(), c.passed) for c in result.get_asset_check_evaluations()
    }
    assert checks == {("optouts", True), ("id5_mapping", True)}

    # Never sent again, however far the clock moves; everyone else is refreshed.
    sandbox.advance_days(30)
    pin_clock(monkeypatch, sandbox)
    result = run_id5(client_for(sandbox), instance)
    assert metadata(result, "id5_mapping")["identities_sent"] == 397
    assert sandbox.stats.users_received == received + 397
    assert query(
        "SELECT count(*) FROM id5_mapping WHERE dii_id IN (3, 4, 6, 1001) "
        "AND (status <> 'optout' OR id5_uid IS NOT NULL)"
    ) == [(0,)]
    assert all(check.passed for check in result.get_asset_check_evaluations())


def test_optout_check_fails_while_an_opted_out_identity_holds_id5_ids(
    workspace: Path, instance: DagsterInstance, id5_sandbox
) -> None:
    """The blocking check, evaluated on its own, sees an opt-out nobody purged yet."""
    from identity_pipeline.optouts.checks import optout_checks
    from identity_pipeline.resources import DuckDBWarehouse

    seed_dii(database(), 10)
    assert run_id5(client_for(id5_sandbox()), instance).success
    query(
        "INSERT INTO optouts SELECT uid2_hash, 'email', 'suppression_file', 'x.csv', "
        "TIMESTAMP '2026-01-02' FROM dii WHERE dii_id = 2"
    )
    (check,) = optout_checks(["id5_mapping"])
    evaluation = check(warehouse=DuckDBWarehouse())
    assert not evaluation.passed
    assert evaluation.metadata["by_table"].value == {
        "uid2_mapping": 0,
        "id5_mapping": 1,
        "id5_uid_history": 1,
    }


def test_uid2_optout_answers_remove_id5_ids_too(
    workspace: Path, instance: DagsterInstance, id5_sandbox, uid2_sandbox
) -> None:
    """An opt-out UID2 reports clears the identity's ID5 IDs in the same run, and ID5 never
    hears of it again."""
    from identity_pipeline_tests.uid2.conftest import client_for as uid2_client_for
    from identity_pipeline_tests.uid2.conftest import run_uid2

    sandbox = id5_sandbox()
    seed_dii(database(), 1_000)  # 800 emails
    assert run_id5(client_for(sandbox), instance).success
    result = run_uid2(uid2_client_for(uid2_sandbox(optout_rate=0.05)), instance)
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    opted_out = query(
        "SELECT count(*) FROM uid2_mapping WHERE status = 'optout' AND dii_type = 'email'"
    )[0][0]
    assert opted_out > 10
    assert query(
        "SELECT count(*), count(m.id5_uid), count(h.dii_id) FROM uid2_mapping AS u "
        "JOIN id5_mapping AS m USING (dii_id) LEFT JOIN id5_uid_history AS h USING (dii_id) "
        "WHERE u.status = 'optout'"
    ) == [(opted_out, 0, 0)]
    assert query("SELECT count(*) FROM id5_mapping WHERE status = 'optout'") == [(opted_out,)]

    query("UPDATE id5_mapping SET mapped_at = mapped_at - INTERVAL 30 DAYS")
    received = sandbox.stats.users_received
    assert run_id5(client_for(sandbox), instance).success
    assert sandbox.stats.users_received - received == 800 - opted_out
