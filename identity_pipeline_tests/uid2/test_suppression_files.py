"""Suppression files in landing optouts/: raw values and hashes opt identities out for good."""

import base64
import hashlib
from pathlib import Path

from dagster import DagsterInstance
from uid2_client import normalize_and_hash_email

from identity_pipeline_tests.uid2.conftest import (
    client_for,
    database,
    metadata,
    query,
    run_uid2,
    seed_dii,
)


def test_suppression_file_clears_ids_and_excludes_from_calls(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, capsys
) -> None:
    sandbox = uid2_sandbox()
    seed_dii(database(), 100)
    # Two real people land through contacts-like hashes: replace ids 1 and 2 with known emails.
    raw_email = "Jane.Doe+news@Example.com"
    hashed = normalize_and_hash_email(raw_email)
    other = normalize_and_hash_email("someone.else@example.org")
    query("UPDATE dii SET uid2_hash = ? WHERE dii_id = 1", [hashed])
    query("UPDATE dii SET uid2_hash = ? WHERE dii_id = 2", [other])
    assert run_uid2(client_for(sandbox), instance).success
    assert query("SELECT count(current_uid) FROM uid2_mapping WHERE dii_id IN (1, 2)") == [(2,)]

    folder = workspace / "landing" / "optouts"
    folder.mkdir()
    hex_of_other = base64.b64decode(other).hex()
    (folder / "suppress.csv").write_text(
        f"email,email_hash\n{raw_email},\n,{hex_of_other}\n,not-a-hash\n"
    )
    sent = sandbox.stats.identifiers
    result = run_uid2(client_for(sandbox), instance)
    assert result.success
    meta = metadata(result, "optouts")
    assert meta["new_from_files"] == 2 and meta["values_rejected"] == 1
    assert query(
        "SELECT dii_id, status, current_uid, previous_uid FROM uid2_mapping "
        "WHERE dii_id IN (1, 2) ORDER BY 1"
    ) == [(1, "optout", None, None), (2, "optout", None, None)]
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert sandbox.stats.identifiers == sent  # nothing else was due

    # The rejected value is kept as a salted fingerprint only, and never printed.
    rejects = query("SELECT field, reason, fingerprint FROM optout_rejects")
    assert [(f, r) for f, r, _ in rejects] == [("email_hash", "hash_invalid")]
    assert rejects[0][2] != hashlib.sha256(b"not-a-hash").hexdigest()
    for stored in (database(), database().with_suffix(".duckdb.wal")):
        assert not stored.exists() or b"Jane.Doe" not in stored.read_bytes()
    assert raw_email not in capsys.readouterr().out

    # The same file again changes nothing; a new identity that was suppressed never goes out.
    again = run_uid2(client_for(sandbox), instance)
    assert metadata(again, "optouts")["files_unchanged"] == 1
    query(
        "INSERT INTO dii VALUES (500, 'email', ?, NULL, TIMESTAMP '2026-02-01', "
        "TIMESTAMP '2026-02-01', 1)",
        [normalize_and_hash_email("late.arrival@example.com")],
    )
    (folder / "later.parquet").write_bytes(b"")  # an empty file fails clearly, others still load
    (folder / "late.csv").write_text(
        "uid2_hash\n" + normalize_and_hash_email("late.arrival@example.com") + "\n"
    )
    result = run_uid2(client_for(sandbox), instance)
    assert result.success
    assert metadata(result, "optouts")["files_failed"] == 1
    assert query("SELECT count(*) FROM uid2_mapping WHERE dii_id = 500") == [(0,)]
    assert metadata(result, "uid2_mapping")["identities_sent"] == 0
