"""Read-your-writes, and answers that agree with the pipeline's next graph: the service's
uuids equal what the identity graph (graph-core's stitch_events, run on the events the service
published into landing/events/ while it keeps serving) gives, and retired UUIDs resolve,
through the service's own merges and through the published graph's person_merges."""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb

from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.service.snapshot import publish_from_warehouse
from identity_pipeline_tests.service.service_process import (
    Service,
    ingest_landing_events,
    running,
)

FAST_SEGMENTS = {"IDENTITY_SERVICE_SEGMENT_SECONDS": "0.3"}


def create(service: Service, **ids: str) -> dict:
    response = service.post({"platform": "web", "count_prev_visits": True, **ids})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def journal(service: Service, **ids: str) -> dict:
    response = service.post({"platform": "web", **ids}, token="reader-token")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_for_landing(service: Service, events: int, timeout: float = 20) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = service.landing_events()
        if sum(len(f.read_bytes().splitlines()) for f in files) >= events:
            return files
        time.sleep(0.1)
    raise AssertionError(f"fewer than {events} events reached landing/events/")


def ingested_segments(files: list[Path]) -> dict[str, set[int]]:
    numbers: dict[str, set[int]] = {}
    for path in files:
        found = re.match(r"service-([0-9a-f]+)-(\d+)\.jsonl$", path.name)
        assert found, path.name
        numbers.setdefault(found.group(1), set()).add(int(found.group(2)))
    return numbers


def pipeline_run(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """What identity_graph_refresh does with landed events: ingest, stitch (incrementally,
    new events only), and publish the graph with its journal for the service."""
    ingest_landing_events(con, landing, "landed")
    con.execute("CREATE TABLE IF NOT EXISTS seen (event_id VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM landed "
        "WHERE event_id NOT IN (SELECT event_id FROM seen)"
    )
    stitch_events(con, "batch")
    con.execute("INSERT INTO seen SELECT event_id FROM batch")


def publish(con: duckdb.DuckDBPyConnection, landing: Path, graph: Path, through: dict) -> None:
    # The journal: every landed line without its event_id, joined to its person through the
    # anonymous_id (every event of these tests has one; graph-core's person_journal will
    # give this for every identifier).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE journal_src AS
        SELECT g.person_id, CAST(j.line ->> 'created_at' AS TIMESTAMP) AS created_at,
            CAST(json_merge_patch(j.line, '{"event_id": null}') AS VARCHAR) AS entry
        FROM (SELECT CAST(json AS JSON) AS line
              FROM read_json_objects($glob, format = 'newline_delimited')) AS j
        JOIN identity_graph AS g
          ON g.id_type = 'anonymous_id' AND g.id_value = trim(j.line ->> 'anonymous_id')
        """,
        {"glob": str(landing / "events" / "*.jsonl")},
    )
    publish_from_warehouse(con, graph, journal="journal_src", ingested_segments=through)


def test_a_create_shows_first_in_the_next_journal_and_shared_identifiers_share_a_uuid(
    tmp_path: Path,
) -> None:
    with running(tmp_path) as service:
        first = create(service, anonymous_id="laptop-1", email="ana@corp.io")
        second = create(service, anonymous_id="phone-1", email="Ana@Corp.io ")
        assert second["uuid"] == first["uuid"]
        third = create(service, anonymous_id="tablet-1", phone="+14155550123")
        assert third["uuid"] != first["uuid"]
        joined = create(service, anonymous_id="tablet-1", email="ana@corp.io")
        assert joined["uuid"] == first["uuid"]  # the person seen first survives
        data = journal(service, anonymous_id="laptop-1")
        assert data["uuid"] == first["uuid"]
        assert [e["anonymous_id"] for e in data["journal"]] == [
            "tablet-1",
            "tablet-1",
            "phone-1",
            "laptop-1",
        ]
        # the retired uuid of the tablet's person resolves to the survivor
        assert journal(service, anonymous_id=third["uuid"])["uuid"] == first["uuid"]
        # QA values link nobody
        qa_a = create(service, anonymous_id="dev-qa-1", email="test@test.com")
        qa_b = create(service, anonymous_id="dev-qa-2", email="test@test.com")
        assert qa_a["uuid"] != qa_b["uuid"]


def test_uuids_equal_the_pipelines_next_graph_ingested_while_the_service_runs(
    tmp_path: Path,
) -> None:
    people = [
        {"anonymous_id": "d1"},
        {"anonymous_id": "d2", "gclid": "G-1"},
        {"anonymous_id": "d1", "email": "lee@corp.io"},
        {"anonymous_id": "d3", "email": "LEE@corp.io", "phone": "+442071838750"},
        {"anonymous_id": "d4", "phone": "+44 20 7183 8750"},
        {"anonymous_id": "d5", "gaclid": "G-1"},
        {"anonymous_id": "d6", "email": "null"},
        {"anonymous_id": "anonymous"},
        {"anonymous_id": "d7", "fbclid": "F-9", "email": "max@corp.io"},
    ]
    with running(tmp_path, **FAST_SEGMENTS) as service:
        answers = [create(service, **ids) for ids in people]
        files = wait_for_landing(service, len(people))
        con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
        pipeline_run(con, tmp_path / "landing")
        graph = dict(
            con.execute(
                "SELECT id_value, person_id FROM identity_graph WHERE id_type = 'anonymous_id'"
            ).fetchall()
        )
        # the service kept serving while the pipeline ran
        assert create(service, anonymous_id="d8")["uuid"]
        # the final answer for every device is the pipeline's person
        for ids in people:
            device = ids["anonymous_id"]
            now = journal(service, anonymous_id=device)["uuid"]
            assert now == graph.get(device), device
        assert answers[2]["uuid"] == graph["d1"] and answers[4]["uuid"] == graph["d4"]
        assert graph["d1"] == graph["d3"] == graph["d4"]  # email, then phone join them
        assert graph["d2"] == graph["d5"]  # gaclid is gclid
        assert "anonymous" not in graph and answers[7]["uuid"] is None
        # hand the published graph to a restarted service: same answers, same journal
        publish(con, tmp_path / "landing", tmp_path / "graph", ingested_segments(files))
        con.close()
        before = journal(service, anonymous_id="d3")
    with running(tmp_path) as restarted:
        after = journal(restarted, anonymous_id="d3")
        assert after["uuid"] == before["uuid"]
        assert after["journal"] == before["journal"]
        assert create(restarted, anonymous_id="d2")["uuid"] == graph["d2"]


def test_a_uuid_retired_by_the_pipeline_resolves_through_person_merges(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with running(tmp_path, **FAST_SEGMENTS) as service:
        older = create(service, anonymous_id="m-old")["uuid"]
        newer = create(service, anonymous_id="m-new")["uuid"]
        wait_for_landing(service, 2)
        pipeline_run(con, tmp_path / "landing")  # the graph knows both persons
        linked = create(service, anonymous_id="m-new", email="merge@corp.io")
        assert linked["uuid"] == newer
        merged = create(service, anonymous_id="m-old", email="merge@corp.io")
        assert merged["uuid"] == older  # the person seen first survives, at once
        assert journal(service, anonymous_id=newer)["uuid"] == older
        files = wait_for_landing(service, 4)
    pipeline_run(con, tmp_path / "landing")
    merges = con.execute("SELECT old_person_id, new_person_id FROM person_merges").fetchall()
    assert (newer, older) in merges
    publish(con, tmp_path / "landing", tmp_path / "graph", ingested_segments(files))
    con.close()
    with running(tmp_path) as restarted:
        data = journal(restarted, anonymous_id=newer)
        assert data["uuid"] == older
        assert len(data["journal"]) == 4


def test_a_graph_published_while_the_service_runs_goes_live_without_a_restart(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with running(tmp_path, IDENTITY_SERVICE_GRAPH_POLL_SECONDS="0.2", **FAST_SEGMENTS) as service:
        # an event the service never saw, landed by another producer (an app's export)
        other = tmp_path / "landing" / "events" / "app-export.jsonl"
        other.write_text(
            '{"platform": "app", "anonymous_id": "ext-1", "email": "ext@corp.io", '
            '"event_id": "app-1", "created_at": "2026-01-05T10:00:00.000000Z"}\n'
        )
        assert journal(service, anonymous_id="ext-1") == {"uuid": None, "journal": []}
        before = create(service, anonymous_id="ext-2", email="ext@corp.io")["uuid"]
        files = [f for f in wait_for_landing(service, 2) if f.name.startswith("service-")]
        pipeline_run(con, tmp_path / "landing")
        person = con.execute(
            "SELECT person_id FROM identity_graph WHERE id_value = 'ext-1'"
        ).fetchall()[0][0]
        # both events carry the email, which outranks device IDs as the anchor: one UUID
        assert person == before
        publish(con, tmp_path / "landing", tmp_path / "graph", ingested_segments(files))
        deadline = time.monotonic() + 20
        while journal(service, anonymous_id="ext-1")["uuid"] is None:
            assert time.monotonic() < deadline, "the published graph never went live"
            time.sleep(0.1)
        for device in ("ext-1", "ext-2"):
            data = journal(service, anonymous_id=device)
            assert data["uuid"] == person
            assert [e["anonymous_id"] for e in data["journal"]] == ["ext-2", "ext-1"]
        after = create(service, anonymous_id="ext-2")
        assert after["uuid"] == person
    con.close()
