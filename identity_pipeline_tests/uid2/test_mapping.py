"""uid2_mapping through Dagster against the sandbox: counts, faults, refresh, opt-outs, v2."""

from datetime import timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance, FloatMetadataValue, IntMetadataValue

from identity_pipeline import settings
from identity_pipeline.reporting.charts import PNG_SIGNATURE, image_of
from identity_pipeline_tests.uid2.conftest import (
    client_for,
    database,
    metadata,
    query,
    run_uid2,
    seed_dii,
)


def pin_clock(monkeypatch: pytest.MonkeyPatch, sandbox: object) -> None:
    """The pipeline's clock follows the sandbox's, which tests move forward by days."""
    monkeypatch.setenv(settings.ENV_NOW, sandbox.clock.now().isoformat())  # type: ignore[attr-defined]


def test_maps_every_identity_once_and_opt_outs_hold_nothing(
    workspace: Path, instance: DagsterInstance, uid2_sandbox
) -> None:
    sandbox = uid2_sandbox(optout_rate=0.05)
    seed_dii(database(), 12_000)
    result = run_uid2(client_for(sandbox, batch_size=2_000), instance)
    assert result.success
    meta = metadata(result, "uid2_mapping")
    assert meta["identities_sent"] == 12_000
    assert meta["batches"] == 6
    assert meta["mapped"] + meta["opted_out"] + meta["invalid"] == 12_000
    assert 300 < meta["opted_out"] < 900  # 5% of 12,000, give or take
    assert meta["retries"] == 0
    # Numbers are numbers (the Plots tab draws them), and a status chart is an image.
    numbers = next(
        e for e in result.get_asset_materialization_events() if e.asset_key.path == ["uid2_mapping"]
    )
    assert numbers.materialization.metadata["mapped"] == IntMetadataValue(meta["mapped"])
    assert isinstance(numbers.materialization.metadata["api_wait_seconds"], FloatMetadataValue)
    chart = image_of(meta["status_chart"])
    assert chart.startswith(PNG_SIGNATURE) and len(chart) > 1_000
    rows = query(
        "SELECT count(*), count(DISTINCT dii_id), count(current_uid), "
        "count(*) FILTER (WHERE status = 'optout' AND current_uid IS NULL), "
        "min(length(current_uid)), count(*) FILTER (WHERE refresh_from IS NULL) "
        "FROM uid2_mapping"
    )[0]
    assert rows[0] == rows[1] == 12_000
    assert rows[2] == meta["mapped"]
    assert rows[3] == meta["opted_out"]
    assert rows[4] == 44  # 33-byte raw UID2, base64
    assert rows[5] == meta["opted_out"]
    in_optouts = query("SELECT count(*) FROM optouts WHERE source = 'uid2_api'")[0][0]
    assert in_optouts == meta["opted_out"]
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert sandbox.stats.max_concurrent == 1

    # A second run right away has nothing due and sends nothing.
    before = sandbox.stats.identifiers
    again = run_uid2(client_for(sandbox), instance)
    assert metadata(again, "uid2_due_for_refresh")["dagster/row_count"] == 0
    assert metadata(again, "uid2_mapping")["identities_sent"] == 0
    assert sandbox.stats.identifiers == before


def test_heavy_faults_still_map_every_identity_exactly_once(
    workspace: Path, instance: DagsterInstance, uid2_sandbox
) -> None:
    sandbox = uid2_sandbox(fault_rate=0.4, slow_reply_seconds=1.5)
    seed_dii(database(), 6_000)
    result = run_uid2(client_for(sandbox, batch_size=200, read_timeout_seconds=0.5), instance)
    assert result.success
    meta = metadata(result, "uid2_mapping")
    stats = sandbox.stats
    faults = sum(stats.faults.values())
    assert faults / stats.requests >= 0.3
    assert meta["retries"] >= faults * 0.9  # every fault the client saw was retried
    assert meta["mapped"] == 6_000
    sent, distinct = query("SELECT count(*), count(DISTINCT dii_id) FROM uid2_mapping")[0]
    assert sent == distinct == 6_000
    lost = query(
        "SELECT count(*) FROM dii LEFT JOIN uid2_mapping USING (dii_id) "
        "WHERE uid2_mapping.current_uid IS NULL"
    )[0][0]
    assert lost == 0
    # Retries are logged (batch, reason, wait) without keys or identifiers.
    logged = "\n".join(
        str(record.user_message) for record in instance.all_logs(result.run_id)
    ) + str([e.event_specific_data for e in result.all_events])
    assert "retry" in logged
    sample_hashes = [h for (h,) in query("SELECT uid2_hash FROM dii LIMIT 50")]
    for secret in (sandbox.config.api_key, sandbox.config.secret, *sample_hashes):
        assert secret not in logged
    print(  # the closing note's figures; no identifiers
        f"fault run: {stats.requests} requests, faults {dict(stats.faults)}, "
        f"retries {meta['retries']}, sent 6000, mapped {meta['mapped']}, lost {lost}"
    )


def test_refresh_sends_only_due_rows_and_records_previous_uid(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = uid2_sandbox()
    seed_dii(database(), 20_000)
    pin_clock(monkeypatch, sandbox)
    assert run_uid2(client_for(sandbox), instance).success
    before = dict(query("SELECT dii_id, current_uid FROM uid2_mapping"))

    sandbox.advance_days(45)
    pin_clock(monkeypatch, sandbox)
    now = settings.now().replace(tzinfo=None)
    due = query("SELECT count(*) FROM uid2_mapping WHERE refresh_from <= ?", [now])[0][0]
    assert 0 < due < 20_000
    sent_before = sandbox.stats.identifiers
    result = run_uid2(client_for(sandbox), instance)
    assert result.success
    assert metadata(result, "uid2_due_for_refresh")["by_reason"] == {"refresh_from_passed": due}
    assert sandbox.stats.identifiers - sent_before == due
    after = query("SELECT dii_id, current_uid, previous_uid, refresh_from FROM uid2_mapping")
    rotated = [(i, cur, prev) for i, cur, prev, _ in after if cur != before[i]]
    assert rotated, "45 days should rotate some salt buckets"
    assert all(prev == before[i] for i, _, prev in rotated)
    assert all(refresh > now for _, _, _, refresh in after)
    untouched = query(
        "SELECT count(*) FROM uid2_mapping WHERE mapped_at < ?", [now - timedelta(days=1)]
    )[0][0]
    assert untouched == 20_000 - due


def test_identity_that_opts_out_later_loses_its_uid2s(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = uid2_sandbox()
    seed_dii(database(), 3_000)
    pin_clock(monkeypatch, sandbox)
    assert run_uid2(client_for(sandbox), instance).success
    leaver_id, leaver_hash, refresh_from = query(
        "SELECT dii_id, uid2_hash, refresh_from FROM uid2_mapping ORDER BY refresh_from LIMIT 1"
    )[0]
    sandbox.add_optouts([leaver_hash])
    days = (refresh_from - settings.now().replace(tzinfo=None)).total_seconds() / 86_400 + 1
    sandbox.advance_days(days)
    pin_clock(monkeypatch, sandbox)
    result = run_uid2(client_for(sandbox), instance)
    assert result.success
    assert metadata(result, "uid2_mapping")["opted_out"] == 1
    row = query(
        "SELECT status, current_uid, previous_uid FROM uid2_mapping WHERE dii_id = ?", [leaver_id]
    )[0]
    assert row == ("optout", None, None)
    assert query("SELECT source FROM optouts WHERE uid2_hash = ?", [leaver_hash]) == [("uid2_api",)]
    assert all(check.passed for check in result.get_asset_check_evaluations())

    # Never sent again, however far the clock moves.
    sandbox.advance_days(400)
    pin_clock(monkeypatch, sandbox)
    due = query("SELECT count(*) FROM dii")[0][0]
    assert run_uid2(client_for(sandbox), instance).success
    assert query("SELECT count(*) FROM uid2_due_for_refresh WHERE dii_id = ?", [leaver_id]) == [
        (0,)
    ]
    assert query("SELECT count(*) FROM uid2_due_for_refresh")[0][0] == due - 1


def test_invalid_identity_is_not_resent_until_seen_again(
    workspace: Path, instance: DagsterInstance, uid2_sandbox
) -> None:
    sandbox = uid2_sandbox()
    seed_dii(database(), 50)
    query("UPDATE dii SET uid2_hash = 'not-a-hash' WHERE dii_id = 7")
    assert run_uid2(client_for(sandbox), instance).success
    assert query("SELECT status, reason FROM uid2_mapping WHERE dii_id = 7") == [
        ("invalid", "invalid identifier")
    ]
    sent = sandbox.stats.identifiers
    assert run_uid2(client_for(sandbox), instance).success
    assert sandbox.stats.identifiers == sent
    query("UPDATE dii SET last_seen_at = TIMESTAMP '2026-06-01' WHERE dii_id = 7")
    result = run_uid2(client_for(sandbox), instance)
    assert metadata(result, "uid2_due_for_refresh")["by_reason"] == {"seen_again": 1}
    assert sandbox.stats.identifiers == sent + 1
    assert query("SELECT attempts FROM uid2_mapping WHERE dii_id = 7") == [(2,)]


def test_v2_maps_by_type_and_refreshes_rotated_buckets(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = uid2_sandbox()
    seed_dii(database(), 8_000)
    pin_clock(monkeypatch, sandbox)
    client = client_for(sandbox, api_version="v2", batch_size=3_000)
    result = run_uid2(client, instance)
    assert result.success
    assert metadata(result, "uid2_mapping")["mapped"] == 8_000
    assert sandbox.stats.by_path == {"/v2/identity/map": 4}  # 6,400 emails + 1,600 phones
    assert query("SELECT count(*) FROM uid2_mapping WHERE bucket_id IS NULL") == [(0,)]

    sandbox.advance_days(30)
    pin_clock(monkeypatch, sandbox)
    result = run_uid2(client, instance)
    assert result.success
    reasons = metadata(result, "uid2_due_for_refresh")["by_reason"]
    rotated = reasons.get("bucket_rotated", 0)
    assert reasons == {"bucket_rotated": rotated} and rotated > 0
    assert sandbox.stats.by_path["/v2/identity/buckets"] == 1
    changed = query("SELECT count(*) FROM uid2_mapping WHERE previous_uid IS NOT NULL")[0][0]
    assert 0 < changed <= rotated
