"""Asset `identity_service_snapshot` over the issue 15 contract tables, filled here by hand
(raw_events, event_files, person_journal, persons) and by graph-core's stitch_events (the
graph tables): the journal holds each event's payload as sent plus created_at, persons carry
the `persons` table's visits, and the manifest names exactly the service segments the graph
holds, which the service's overlay then drops (and only those)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from identity_pipeline import settings
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.service.assets import identity_service_snapshot
from identity_pipeline.service.config import ENV_TOKENS, from_env
from identity_pipeline.service.identifiers import event_identifiers
from identity_pipeline.service.overlay import Event, Overlay
from identity_pipeline.service.snapshot import (
    GraphSnapshot,
    IngestedSegments,
    publish_from_pipeline,
)
from identity_pipeline.warehouse import connect

LOG = "a1b2c3d4e5f6"


def service_file(n: int) -> str:
    return f"service-{LOG}-{n:09d}.jsonl"


# (event_id, created_at, source file, ingest_seq, payload as sent)
EVENTS = [
    (
        "e1",
        "2026-03-01T09:00:00.000000Z",
        service_file(1),
        1,
        '{"platform": "web", "anonymous_id": "dev-1", "event_id": "e1", '
        '"created_at": "2026-03-01T09:00:00.000000Z"}',
    ),
    (
        "e2",
        "2026-03-01T09:10:00.250000Z",
        service_file(1),
        1,
        '{"platform":"web","anonymous_id":"dev-2","email":"Ana@Corp.io",'
        '"valuation_properties":{"action":"purchase","properties":{"value":19.99,'
        '"currency":"EUR","note":"caf\u00e9 / r\u00e9sum\u00e9"}},'
        '"event_id":"e2","created_at":"2026-03-01T09:10:00.250000Z"}',
    ),
    (
        "e3",
        "2026-03-02T12:00:00.000000Z",
        service_file(3),
        1,
        '{"platform":"app","anonymous_id":"dev-1","email":"ana@corp.io",'
        '"event_id":"e3","created_at":"2026-03-02T12:00:00.000000Z"}',
    ),
    (
        "x1",
        "2026-03-02T13:00:00.000000Z",
        "app-export.jsonl",
        1,
        '{"platform":"app","anonymous_id":"dev-9","event_id":"x1",'
        '"created_at":"2026-03-02T13:00:00.000000Z"}',
    ),
]


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def load_events(con: duckdb.DuckDBPyConnection, events: list[tuple]) -> None:
    for event_id, created, source, seq, payload in events:
        body = json.loads(payload)
        con.execute(
            """
            INSERT INTO raw_events (event_id, created_at, day, platform, anonymous_id, email,
                payload, source_file, line_number, ingest_seq, loaded_at)
            VALUES ($id, $at, CAST($at AS DATE), $platform, $anon, $email, $payload, $source,
                1, $seq, now())
            """,
            {
                "id": event_id,
                "at": ts(created),
                "platform": body["platform"],
                "anon": body.get("anonymous_id"),
                "email": body.get("email"),
                "payload": payload,
                "source": source,
                "seq": seq,
            },
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW batch AS
        SELECT event_id, created_at, anonymous_id, email, phone, fbclid, gclid,
            NULL::VARCHAR AS gaclid
        FROM raw_events WHERE ingest_seq = (SELECT max(ingest_seq) FROM raw_events)
        """
    )
    stitch_events(con, "batch")


def build_person_tables(con: duckdb.DuckDBPyConnection) -> None:
    """What graph-assets' persons and person_journal hold, by a simple rule of our own: each
    event belongs to the person of its anonymous_id; visits are counted by hand below."""
    con.execute("DELETE FROM person_journal; DELETE FROM persons")
    con.execute(
        """
        INSERT INTO person_journal
        SELECT g.person_id, r.event_id, r.created_at, r.day, 1, r.platform, NULL, NULL, NULL,
            NULL
        FROM raw_events AS r
        JOIN identity_graph AS g ON g.id_type = 'anonymous_id' AND g.id_value = r.anonymous_id
        """
    )
    con.execute(
        """
        INSERT INTO persons
        SELECT p.person_id, p.anchor_type, p.anchor_value, p.first_seen_at,
            max(j.created_at), count(*), 7, 1, 0, 0, 0, 1, 0, 0, [], [], now()
        FROM identity_persons AS p JOIN person_journal AS j USING (person_id)
        GROUP BY ALL
        """
    )


def file_rows(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str]]) -> None:
    for path, status in rows:
        con.execute(
            "INSERT INTO event_files (file_path, checksum, size_bytes, status, loaded_checksum, "
            "row_count, rejected_rows, seen_at) VALUES ($p, 'x', 1, $s, 'x', 1, 0, now())",
            {"p": path, "s": status},
        )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "identity.duckdb"
    with connect(path) as con:
        load_events(con, EVENTS)
        build_person_tables(con)
        file_rows(
            con,
            [
                (service_file(1), "loaded"),
                (service_file(3), "loaded"),
                (service_file(4), "failed"),
                ("app-export.jsonl", "loaded"),
            ],
        )
    return path


def test_the_snapshot_journal_holds_payloads_as_sent_plus_created_at(
    warehouse: Path, tmp_path: Path
) -> None:
    with connect(warehouse) as con:
        published = publish_from_pipeline(con, tmp_path / "graph")
        person = con.execute(
            "SELECT person_id FROM identity_graph WHERE id_value = 'dev-1'"
        ).fetchone()
    assert person is not None
    snapshot = GraphSnapshot.load(tmp_path / "graph")
    assert snapshot.version == published.folder.name
    assert (published.persons, published.journal_entries) == (2, 4)
    row = snapshot.person_index(person[0])
    entries = [json.loads(line) for line in snapshot.journal_lines(row)]
    # dev-1 and dev-2 share the email: one person, newest first
    assert [e["created_at"] for e in entries] == [
        "2026-03-02T12:00:00.000000Z",
        "2026-03-01T09:10:00.250000Z",
        "2026-03-01T09:00:00.000000Z",
    ]
    for entry, (_event_id, created, *_rest, payload) in zip(
        entries, [EVENTS[2], EVENTS[1], EVENTS[0]], strict=True
    ):
        sent = json.loads(payload)
        del sent["event_id"], sent["created_at"]
        assert entry == {**sent, "created_at": created}
        assert list(entry)[-1] == "created_at" and "event_id" not in entry
    # the exact bytes the service writes for the same event (app._dumps of body + created_at)
    body = json.loads(EVENTS[1][4])
    del body["event_id"], body["created_at"]
    body["created_at"] = EVENTS[1][1]
    service_entry = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert snapshot.journal_lines(row)[1] == service_entry
    # visits and last_seen_at come from the persons table
    assert int(snapshot.visits[row]) == 7
    assert int(snapshot.last_seen_us[row]) == int(
        ts(EVENTS[2][1]).replace(tzinfo=UTC).timestamp() * 1_000_000
    )


def test_the_manifest_names_exactly_the_service_segments_the_graph_holds(
    warehouse: Path, tmp_path: Path
) -> None:
    with connect(warehouse) as con:
        # segment 5 was ingested after the graph was built (its events are not stitched yet)
        con.execute(
            """
            INSERT INTO raw_events (event_id, created_at, day, platform, anonymous_id, payload,
                source_file, line_number, ingest_seq, loaded_at)
            SELECT 'e5', TIMESTAMP '2026-03-03 08:00:00', DATE '2026-03-03', 'web', 'dev-5',
                '{"platform":"web","anonymous_id":"dev-5"}', $f, 1, 2, now()
            """,
            {"f": service_file(5)},
        )
        # segment 6 loaded with every event a duplicate of one already stored: no rows
        file_rows(con, [(service_file(5), "loaded"), (service_file(6), "loaded")])
        published = publish_from_pipeline(con, tmp_path / "graph")
    manifest = json.loads((published.folder / "manifest.json").read_text())
    assert manifest["ingested_segments"] == {LOG: [[1, 1], [3, 3], [6, 6]]}
    assert published.ingested_segments == 3
    snapshot = GraphSnapshot.load(tmp_path / "graph")
    assert [n for n in range(1, 8) if snapshot.ingested.covers(LOG, n)] == [1, 3, 6]
    assert not snapshot.ingested.covers("another-log", 1)

    # the overlay carries over exactly the events of segments the graph does not hold
    old = Overlay(GraphSnapshot())
    for segment, device in [(1, "dev-1"), (2, "dev-7"), (3, "dev-2"), (4, "dev-8"), (7, "d")]:
        body = {"platform": "web", "anonymous_id": device}
        ids = tuple(event_identifiers(body, "US"))
        old.apply(Event(segment, "2026-03-04T00:00:00.000000Z", 0, b"{}", ids, device))
    fresh = old.carry_over(snapshot, lambda n: snapshot.ingested.covers(LOG, n))
    assert [e.segment for e in fresh.events] == [2, 4, 7]


def test_ingested_segments_read_the_first_manifest_format_and_ranges() -> None:
    legacy = IngestedSegments.from_manifest({LOG: 4})
    assert [n for n in range(6) if legacy.covers(LOG, n)] == [1, 2, 3, 4]
    ranges = IngestedSegments.of({LOG: [9, 2, 3, 4, 7]})
    assert ranges.to_manifest() == {LOG: [[2, 4], [7, 7], [9, 9]]}
    again = IngestedSegments.from_manifest(ranges.to_manifest())
    assert [n for n in range(12) if again.covers(LOG, n)] == [2, 3, 4, 7, 9]


def test_an_event_naming_a_person_by_uuid_is_journaled_under_that_person(
    warehouse: Path, tmp_path: Path
) -> None:
    with connect(warehouse) as con:
        person = str(
            con.execute("SELECT person_id FROM identity_graph WHERE id_value = 'dev-1'").fetchone()[
                0
            ]
        )
        named = json.dumps(
            {
                "platform": "dagster-analytics",
                "anonymous_id": person.upper(),
                "count_prev_visits": True,
                "valuation_properties": {"action": "segment_update", "properties": {}},
                "event_id": "s1",
                "created_at": "2026-03-05T00:00:00.000000Z",
            }
        )
        load_events(con, [("s1", "2026-03-05T00:00:00.000000Z", service_file(8), 2, named)])
        build_person_tables(con)
        publish_from_pipeline(con, tmp_path / "graph")
    snapshot = GraphSnapshot.load(tmp_path / "graph")
    newest = json.loads(snapshot.journal_lines(snapshot.person_index(person))[0])
    assert newest["valuation_properties"]["action"] == "segment_update"
    assert sum(len(snapshot.journal_lines(i)) for i in range(snapshot.persons)) == 5


def test_the_asset_publishes_where_the_service_reads(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unset, both sides take graph_snapshot next to the warehouse
    monkeypatch.setenv(settings.ENV_DB, str(warehouse))
    monkeypatch.delenv(settings.ENV_SERVICE_GRAPH, raising=False)
    monkeypatch.setenv(ENV_TOKENS, "t:read")
    assert from_env().graph_dir == tmp_path / "graph_snapshot"
    monkeypatch.setenv(settings.ENV_SERVICE_GRAPH, str(tmp_path / "served"))
    assert from_env().graph_dir == tmp_path / "served"
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [identity_service_snapshot],
            resources={"warehouse": DuckDBWarehouse()},
            instance=instance,
        )
    assert result.success
    [materialization] = result.asset_materializations_for_node("identity_service_snapshot")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["persons"] == 2 and metadata["journal_entries"] == 4
    assert metadata["identifiers"] == 4 and metadata["ingested_service_segments"] == 2
    snapshot = GraphSnapshot.load(tmp_path / "served")
    assert snapshot.version == metadata["version"] and snapshot.persons == 2
    # nothing raw in the metadata
    assert "corp.io" not in json.dumps({k: str(v) for k, v in metadata.items()}).lower()
