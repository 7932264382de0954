"""Forget end to end on the real path: event files landed -> identity_graph_refresh (ingest,
stitch, persons, journal) -> forget -> the same files landed again and refreshed (even from
scratch) -> the person stays gone, everyone else is as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult
from uid2_client import normalize_and_hash_email

from identity_pipeline.cli import main
from identity_pipeline.definitions import defs
from identity_pipeline.dev.events import generate_events
from identity_pipeline.dev.generate_contacts import generate_contacts
from identity_pipeline.privacy.forget import person_tables
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.identity_graph.landed import add_customer
from identity_pipeline_tests.privacy.conftest import (
    ANN_EMAIL,
    BOB_EMAIL,
    BOB_EVENTS,
    FIRST_BATCH,
    SECOND_BATCH,
    body,
)
from identity_pipeline_tests.uid2.conftest import metadata

pytestmark = pytest.mark.integration

ANN_DEVICES = ("ann-laptop", "ann-phone")


def _land(folder: Path, name: str, events: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(body(e)) + "\n" for e in events))


def _refresh(instance: DagsterInstance, full: bool = False) -> ExecuteInProcessResult:
    config = {"full_rebuild": full}
    result = defs.resolve_job_def("identity_graph_refresh").execute_in_process(
        instance=instance,
        run_config={"ops": {"identity_graph": {"config": config}}} if full else None,
    )
    assert result.success
    return result


def _query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def _graph(database: Path) -> dict[tuple[str, str], str]:
    rows = _query(database, "SELECT id_type, id_value, person_id FROM identity_graph")
    return {(t, v): p for t, v, p in rows}


def test_forgotten_person_does_not_come_back_when_old_files_are_ingested_again(
    workspace: Path, instance: DagsterInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    database = workspace / "identity.duckdb"
    events = workspace / "landing" / "events"
    _land(events, "day1.jsonl", FIRST_BATCH)
    _land(events, "day2.jsonl", SECOND_BATCH)
    _refresh(instance)
    graph = _graph(database)
    ann = graph[("anonymous_id", "ann-laptop")]
    assert graph[("email", normalize_and_hash_email(ANN_EMAIL))] == ann
    bob = graph[("anonymous_id", "bob-1")]
    bob_journal = _query(database, f"SELECT * FROM person_journal WHERE person_id = '{bob}'")
    bob_person = _query(database, f"SELECT * FROM persons WHERE person_id = '{bob}'")
    assert bob_journal and bob_person
    assert _query(database, f"SELECT count(*) FROM person_journal WHERE person_id = '{ann}'") != [
        (0,)
    ]

    assert main(["forget", "--email", ANN_EMAIL]) == 0
    assert "persons found: 1" in capsys.readouterr().out

    # The same files landed again under new names, and a new event from Ann's phone.
    shutil.copytree(events, workspace / "replay")
    shutil.move(workspace / "replay", events / "replay")
    _land(events, "day3.jsonl", [{"event_id": "a9", "minutes": 3000, "anonymous_id": "ann-phone"}])
    result = _refresh(instance)
    ingested = metadata(result, "identity_events")
    assert ingested["files_loaded"] == 3
    assert ingested["forgotten_dropped"] == 6  # a1-a5 again, and the new a9
    assert ingested["duplicates"] == 3 and ingested["rows_loaded"] == 0  # Bob's, kept once
    for rebuild in (False, True):
        if rebuild:
            _refresh(instance, full=True)
        assert {r[0] for r in _query(database, "SELECT event_id FROM raw_events")} == BOB_EVENTS
        graph = _graph(database)
        assert set(graph.values()) == {bob}
        assert not {k for k in graph if k[1] in ANN_DEVICES}
        assert _query(database, "SELECT person_id FROM persons") == [(bob,)]
        journal = _query(database, "SELECT * FROM person_journal")
        assert sorted(journal, key=repr) == sorted(bob_journal, key=repr)
        assert _query(
            database,
            f"SELECT count(*) FROM person_merges WHERE '{ann}' IN (old_person_id, new_person_id)",
        ) == [(0,)]


def test_a_crm_customer_is_forgotten_from_the_graph_and_the_crm_rows_are_reported(
    workspace: Path, instance: DagsterInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    database = workspace / "identity.duckdb"
    _land(workspace / "landing" / "events", "day1.jsonl", FIRST_BATCH + SECOND_BATCH)
    with connect(database) as con:
        add_customer(con, "C-ANN", emails=[ANN_EMAIL])
        add_customer(con, "C-BOB", emails=[BOB_EMAIL])
    _refresh(instance)
    graph = _graph(database)
    ann = graph[("anonymous_id", "ann-laptop")]
    assert graph[("customer_id", "C-ANN")] == ann

    assert main(["forget", "--anonymous-id", "ann-phone"]) == 0
    printed = capsys.readouterr().out
    assert "CRM rows kept (dii 1, customer_dii 1)" in printed
    _refresh(instance)  # an incremental refresh does not stitch the kept CRM link again
    graph = _graph(database)
    assert ("customer_id", "C-ANN") not in graph
    assert ("email", normalize_and_hash_email(ANN_EMAIL)) not in graph
    assert graph[("customer_id", "C-BOB")] == graph[("anonymous_id", "bob-1")]
    (kept,) = _query(database, "SELECT crm_rows_kept FROM forget_requests")[0]
    assert json.loads(kept) == {"customer_dii": 1, "dii": 1}
    _refresh(instance, full=True)  # nor does a full rebuild: the deny-list holds the email
    graph = _graph(database)
    assert ("customer_id", "C-ANN") not in graph
    assert ("email", normalize_and_hash_email(ANN_EMAIL)) not in graph
    assert graph[("customer_id", "C-BOB")] == graph[("anonymous_id", "bob-1")]


def test_generated_person_forgotten_through_a_request_file_stays_gone(
    workspace: Path, instance: DagsterInstance
) -> None:
    """generate -> ingest_contacts, identity_graph_refresh -> a request file through
    forget_requests_job -> the generated event files landed again -> refresh: gone."""
    database = workspace / "identity.duckdb"
    landing = workspace / "landing"
    generate_contacts(1_500, landing, seed=5)
    assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    generate_events(4_000, landing, seed=5, events_per_file=2_000)
    _refresh(instance)
    person, email, devices = _query(
        database,
        """
        SELECT g.person_id, min(r.email), p.anonymous_ids
        FROM raw_events AS r
        JOIN identity_events AS e USING (event_id)
        JOIN identity_graph AS g ON g.id_type = 'email' AND g.id_value = e.email_hash
        JOIN identity_persons AS p USING (person_id)
        WHERE p.anonymous_ids > 1 AND p.emails > 0
        GROUP BY ALL ORDER BY g.person_id LIMIT 1
        """,
    )[0]
    assert devices > 1
    others = _query(
        database, f"SELECT * FROM identity_graph WHERE person_id <> '{person}' ORDER BY ALL"
    )
    journal_others = _query(
        database, f"SELECT * FROM person_journal WHERE person_id <> '{person}' ORDER BY ALL"
    )
    identifiers = _query(
        database, f"SELECT id_type, id_value FROM identity_graph WHERE person_id = '{person}'"
    )
    (landing / "forget").mkdir()
    (landing / "forget" / "request.csv").write_text(f"email\n{email}\n")
    forgot = defs.resolve_job_def("forget_requests_job").execute_in_process(instance=instance)
    assert forgot.success
    meta = metadata(forgot, "forget_requests")
    assert meta["persons_found"] == 1 and meta["identifiers_forgotten"] >= len(
        [i for i in identifiers if i[0] != "customer_id"]
    )
    assert email not in repr(meta)
    (deleted,) = _query(database, "SELECT rows_deleted FROM forget_requests")[0]
    raw_deleted = json.loads(deleted)["raw_events"]
    assert raw_deleted > 1

    replay = workspace / "replay"
    shutil.copytree(landing / "events", replay)
    shutil.move(replay, landing / "events" / "replay")
    again = _refresh(instance)
    assert metadata(again, "identity_events")["forgotten_dropped"] == raw_deleted
    graph = _graph(database)
    assert person not in graph.values()
    assert not set(identifiers) & set(graph)
    assert (
        _query(database, f"SELECT * FROM identity_graph WHERE person_id <> '{person}' ORDER BY ALL")
        == others
    )
    assert _query(database, "SELECT * FROM person_journal ORDER BY ALL") == journal_others
    with duckdb.connect(str(database), read_only=True) as con:
        keyed = person_tables(con)
        assert {"persons", "person_journal", "identity_persons"} <= set(keyed)
        for table in keyed:  # the scores too, when the customers package made them
            found = con.execute(f"SELECT count(*) FROM {table} WHERE person_id = ?", [person])
            assert found.fetchall() == [(0,)], table
