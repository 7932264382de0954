"""`identity_events` through the real Dagster path: the project's definitions and resources, a
real instance, a real DuckDB file, files written by `identity-pipeline generate`."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult

from identity_pipeline.definitions import defs
from identity_pipeline_tests.events.conftest import SECRET_EMAIL, SECRET_PHONE, event, write_jsonl

pytestmark = pytest.mark.integration

METADATA_KEYS = {
    "files_seen",
    "files_loaded",
    "files_unchanged",
    "files_failed",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "fields_rejected",
    "duplicates",
    "forgotten_dropped",
    "days_touched",
}


def materialize_events(instance: DagsterInstance) -> ExecuteInProcessResult:
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=instance, asset_selection=[AssetKey("identity_events")], raise_on_error=False
    )
    assert result.success
    return result


def metadata(result: ExecuteInProcessResult) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node("identity_events")
    return {k: v.value for k, v in materialization.metadata.items()}


def query(workspace: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(workspace / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_generated_events_materialize_and_a_second_run_loads_nothing(
    workspace: Path, instance: DagsterInstance
):
    landing = workspace / "landing"
    done = cli("generate", "--rows", "2000", "--events", "6000", "--out", str(landing))
    assert done.returncode == 0, done.stderr
    assert "wrote 6000 web and app events" in done.stdout
    names = sorted(p.name for p in (landing / "events").iterdir())
    assert names == ["events_seed42_0000.jsonl.gz", "events_seed42_0001.parquet"]

    first = metadata(materialize_events(instance))
    assert set(first) >= METADATA_KEYS
    assert (first["files_loaded"], first["rows_read"], first["rows_loaded"]) == (2, 6000, 6000)
    assert first["rows_rejected"] == 0 and first["duplicates"] == 0
    assert first["fields_rejected"] > 0  # the QA phone 0000000000 is not a phone
    assert first["days_touched"] > 30
    assert first["dagster/row_count"] == 6000
    days = query(workspace, "SELECT count(DISTINCT day) FROM identity_events")[0][0]
    assert first["days_touched"] == days

    second = metadata(materialize_events(instance))
    assert (second["files_seen"], second["files_unchanged"], second["files_loaded"]) == (2, 2, 0)
    assert second["rows_loaded"] == 0 and second["dagster/row_count"] == 6000

    # CRM customers and web visitors meet: events carry hashes of the contacts' emails
    with duckdb.connect(str(workspace / "identity.duckdb")) as con:
        con.execute(
            f"""
            CREATE TEMP TABLE crm AS
            SELECT lower(trim(email)) AS email
            FROM read_csv('{landing}/contacts/*.csv', all_varchar = true)
            UNION ALL SELECT lower(trim(email)) FROM read_parquet('{landing}/contacts/*.parquet')
            """
        )
        met = con.execute(
            "SELECT count(DISTINCT email_hash) FROM identity_events WHERE email_hash IN "
            "(SELECT to_base64(unhex(sha256(email))) FROM crm WHERE email NOT LIKE '%gmail.com')"
        ).fetchone()
    assert met is not None and met[0] > 10


def test_raw_values_never_reach_derived_tables_metadata_or_logs(
    workspace: Path,
    instance: DagsterInstance,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    events = workspace / "landing" / "events"
    write_jsonl(
        events,
        "web.jsonl",
        [
            event(1, email=SECRET_EMAIL, phone=SECRET_PHONE),
            event(2, email=SECRET_EMAIL.replace("@", " at "), phone=SECRET_PHONE[:6]),
            event(3, anonymous_id=None, email=SECRET_EMAIL.replace("@", "@@")),
            f'{{"event_id": "e4", "email": "{SECRET_EMAIL}", ',
            json.dumps(event(5, email=SECRET_EMAIL, created_at="not " + SECRET_PHONE)),
        ],
    )
    (events / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08" + SECRET_EMAIL.encode() * 3)
    caplog.set_level(logging.DEBUG)
    result = materialize_events(instance)
    meta = metadata(result)
    assert (meta["rows_loaded"], meta["rows_rejected"], meta["fields_rejected"]) == (2, 3, 2)
    assert meta["files_failed"] == 1
    assert "broken.jsonl.gz" in str(meta["failed_files"])

    secrets = (SECRET_EMAIL, SECRET_PHONE, SECRET_EMAIL.split("@")[0], SECRET_PHONE[2:])
    texts = [json.dumps({k: str(v) for k, v in meta.items()})]
    texts += [str(e) for e in instance.all_logs(result.run_id)]
    out = capsys.readouterr()
    texts += [out.out, out.err, caplog.text]
    for table in ("identity_events", "event_rejects", "event_files"):
        texts.append(str(query(workspace, f"SELECT * FROM {table}")))
    for text in texts:
        for secret in secrets:
            assert secret not in text
    # ... but raw_events keeps the raw bodies, and the hashes are the dii hashes
    assert SECRET_EMAIL in str(query(workspace, "SELECT email FROM raw_events"))
    email_hash = query(workspace, "SELECT email_hash FROM identity_events WHERE event_id = 'e1'")
    digest = hashlib.sha256(SECRET_EMAIL.encode()).digest()
    assert email_hash == [(base64.b64encode(digest).decode(),)]
    error = query(workspace, "SELECT status, error FROM event_files WHERE file_path LIKE 'broken%'")
    assert error[0][0] == "failed" and error[0][1].startswith("unreadable")
