"""Request files in landing forget/ go through the real Dagster path (sensor -> job ->
asset); the CLI works in a subprocess, with no Dagster running, and waits for the lock."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, build_sensor_context

from identity_pipeline.definitions import defs
from identity_pipeline.privacy.sensors import forget_request_files_sensor
from identity_pipeline.resources import LandingArea
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.privacy.conftest import ANN_EMAIL, BOB_EVENTS, build_world
from identity_pipeline_tests.uid2.conftest import metadata

pytestmark = pytest.mark.integration


def _settled(folder: Path) -> None:
    past = time.time() - 60
    for path in folder.rglob("*"):
        os.utime(path, (past, past))


def _query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_request_file_forgets_through_sensor_job_and_asset(
    workspace: Path, instance: DagsterInstance
) -> None:
    database = workspace / "identity.duckdb"
    ids = build_world(database)
    folder = workspace / "landing" / "forget"
    folder.mkdir()
    (folder / "requests.csv").write_text(
        "email,phone,anonymous_id\n"
        f"{ANN_EMAIL.upper()},,\n"  # row 1: Ann
        ",555-not-a-phone,\n"  # row 2: unusable phone
        ",,\n"  # row 3: names nobody
        ",,ghost-device\n"  # row 4: never seen, still deny-listed
    )
    (folder / "broken.csv").write_text("email;phone\nsomeone@else.test;\n")
    _settled(folder)

    context = build_sensor_context(instance=instance, resources={"landing": LandingArea()})
    tick = forget_request_files_sensor(context)
    (request,) = tick.run_requests
    assert request.tags == {"identity_pipeline/trigger": "forget_request_files"}
    result = defs.resolve_job_def("forget_requests_job").execute_in_process(
        instance=instance, tags=request.tags
    )
    assert result.success
    meta = metadata(result, "forget_requests")
    assert meta["requests"] == 2 and meta["persons_found"] == 1
    assert meta["files_loaded"] == 1 and meta["files_failed"] == 1
    assert meta["values_rejected"] == 2 and meta["dagster/row_count"] == 2
    assert "semicolon-delimited" in meta["failed_files"]
    assert "someone" not in repr(meta)

    assert {r[0] for r in _query(database, "SELECT event_id FROM raw_events")} == BOB_EVENTS
    assert _query(database, "SELECT person_id FROM identity_persons") == [(ids["bob"],)]
    audit = _query(
        database,
        "SELECT source, source_file, row_number, id_types, persons_found FROM forget_requests "
        "ORDER BY row_number",
    )
    assert audit == [
        ("file", "requests.csv", 1, ["email"], 1),
        ("file", "requests.csv", 4, ["anonymous_id"], 0),
    ]
    rejects = _query(
        database,
        "SELECT source_file, row_number, field, reason, fingerprint FROM forget_request_rejects "
        "ORDER BY row_number",
    )
    assert [r[:4] for r in rejects] == [
        ("requests.csv", 2, "phone", "phone_invalid"),
        ("requests.csv", 3, "row", "no_identifier"),
    ]
    assert rejects[0][4] != hashlib.sha256(b"555-not-a-phone").hexdigest()
    assert ("anonymous_id",) in _query(database, "SELECT id_type FROM forgotten_identifiers")
    files = _query(database, "SELECT file_path, status FROM forget_request_files ORDER BY 1")
    assert files == [("broken.csv", "failed"), ("requests.csv", "loaded")]

    # The same files again: nothing new is read or audited.
    again = defs.resolve_job_def("forget_requests_job").execute_in_process(instance=instance)
    assert metadata(again, "forget_requests")["files_unchanged"] == 2
    assert _query(database, "SELECT count(*) FROM forget_requests") == [(2,)]


def _cli(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", "forget", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "IDENTITY_PIPELINE_DB": str(database)},
    )


def test_the_command_waits_for_the_lock_and_prints_counts_only(tmp_path: Path) -> None:
    database = tmp_path / "identity.duckdb"
    ids = build_world(database)
    with connect(database):  # another process (this one) holds the warehouse
        locked = _cli(database, "--email", ANN_EMAIL, "--lock-timeout", "1")
    assert locked.returncode == 1
    assert "locked" in locked.stderr and "nothing was forgotten" in locked.stderr
    assert _query(database, "SELECT count(*) FROM forget_requests") == [(0,)]

    done = _cli(database, "--email", ANN_EMAIL, "--phone", "+1 415 555 0100")
    assert done.returncode == 0, done.stderr
    assert "persons found: 1" in done.stdout and "raw_events" in done.stdout
    output = (done.stdout + done.stderr).lower()
    assert "ann" not in output and "415" not in output
    assert _query(database, "SELECT person_id FROM identity_persons") == [(ids["bob"],)]
    assert _query(database, "SELECT id_types FROM forget_requests") == [(["email", "phone"],)]
