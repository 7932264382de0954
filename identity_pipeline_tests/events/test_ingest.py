"""Events landing: formats, rejects, dedupe, incremental loads, late files, the deny-list."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from identity_pipeline.events.denylist import identifier_hash
from identity_pipeline.service.eventlog import EventLog
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.events.conftest import (
    SECRET_EMAIL,
    SECRET_PHONE,
    Warehouse,
    event,
    write_jsonl,
    write_parquet,
)


def uid2_hash(normalized: str) -> str:
    return base64.b64encode(hashlib.sha256(normalized.encode()).digest()).decode()


REJECTED = [
    ("not json at all, " + SECRET_EMAIL, "line", "invalid_json"),
    ('{"event_id": "x1", "email": "' + SECRET_EMAIL + '"', "line", "invalid_json"),
    (json.dumps([SECRET_EMAIL]), "line", "not_a_json_object"),
    (json.dumps(event(1, event_id=None)), "event_id", "missing"),
    (json.dumps(event(1, event_id=17)), "event_id", "wrong_type"),
    (json.dumps(event(1, event_id="   ")), "event_id", "blank"),
    (json.dumps(event(1, event_id="x" * 300)), "event_id", "too_long"),
    (json.dumps(event(1, created_at=None)), "created_at", "missing"),
    (json.dumps(event(1, created_at=1751364000)), "created_at", "wrong_type"),
    (json.dumps(event(1, created_at="yesterday")), "created_at", "invalid_timestamp"),
    (json.dumps(event(1, created_at="2026-02-30T10:00:00Z")), "created_at", "invalid_timestamp"),
    (json.dumps(event(1, created_at="2026-07-01")), "created_at", "invalid_timestamp"),
    (json.dumps(event(1, created_at="1899-07-01T10:00:00Z")), "created_at", "out_of_range"),
    (json.dumps(event(1, platform=["web"])), "platform", "wrong_type"),
    (json.dumps(event(1, anonymous_id=42)), "anonymous_id", "wrong_type"),
    (json.dumps(event(1, email={"address": SECRET_EMAIL})), "email", "wrong_type"),
    (json.dumps(event(1, phone=12125550143)), "phone", "wrong_type"),
    (json.dumps(event(1, fbclid=1)), "fbclid", "wrong_type"),
    (json.dumps(event(1, gclid=True)), "gclid", "wrong_type"),
    (json.dumps(event(1, gaclid=2.5)), "gaclid", "wrong_type"),
    (json.dumps(event(1, valuation_properties="purchase")), "valuation_properties", "wrong_type"),
    (
        json.dumps(event(1, valuation_properties={"action": 3})),
        "valuation_properties.action",
        "wrong_type",
    ),
    (
        json.dumps(event(1, valuation_properties={"action": "buy", "properties": [1]})),
        "valuation_properties.properties",
        "wrong_type",
    ),
    (
        json.dumps(event(1, anonymous_id=None, phone=SECRET_PHONE)),
        "anonymous_id,email",
        "missing_anonymous_id_and_email",
    ),
    (
        json.dumps(event(1, anonymous_id="  ", email="")),
        "anonymous_id,email",
        "missing_anonymous_id_and_email",
    ),
    # an invalid email that was the only identifier: nothing usable is left
    (
        json.dumps(event(1, anonymous_id=None, email="very.private at example")),
        "email",
        "email_invalid",
    ),
]


@pytest.mark.parametrize(("line", "field", "reason"), REJECTED)
def test_each_reject_reason_names_file_line_field_never_the_value(
    warehouse: Warehouse, line: str, field: str, reason: str
):
    write_jsonl(warehouse.events, "batch.jsonl", [event(0), line, event(2)])
    report = warehouse.ingest()
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    event_id = "e1" if field not in ("line", "event_id") else None
    assert warehouse.rejects() == {("batch.jsonl", 2, event_id, field, reason, False)}
    assert warehouse.query("SELECT event_id FROM raw_events ORDER BY 1") == [("e0",), ("e2",)]
    for table in ("event_rejects", "identity_events", "event_files"):
        dump = warehouse.dump(table)
        assert SECRET_EMAIL not in dump and "very.private" not in dump and SECRET_PHONE not in dump
    files = warehouse.query("SELECT status, row_count, rejected_rows, stored_rows FROM event_files")
    assert files == [("loaded", 3, 1, 2)]


def test_invalid_email_or_phone_drops_the_field_and_keeps_the_event(warehouse: Warehouse):
    write_jsonl(
        warehouse.events,
        "batch.jsonl",
        [
            event(1, email="very.private at example.com", phone=SECRET_PHONE),
            event(2, email=f"  {SECRET_EMAIL.upper()} ", phone="12345"),
            event(3, anonymous_id=None, email=SECRET_EMAIL, phone="(212) 555-0143"),
        ],
    )
    report = warehouse.ingest()
    assert (report.rows_loaded, report.rows_rejected, report.fields_rejected) == (3, 0, 2)
    assert warehouse.rejects() == {
        ("batch.jsonl", 1, "e1", "email", "email_invalid", True),
        ("batch.jsonl", 2, "e2", "phone", "phone_invalid", True),
    }
    rows = warehouse.query(
        "SELECT event_id, anonymous_id, email_hash, phone_hash FROM identity_events ORDER BY 1"
    )
    email, phone = uid2_hash(SECRET_EMAIL), uid2_hash(SECRET_PHONE)
    assert rows == [
        ("e1", "anon-1", None, phone),
        ("e2", "anon-2", email, None),  # the same address, written another way
        ("e3", None, email, phone),  # a national number in the default region
    ]
    assert SECRET_EMAIL not in warehouse.dump("identity_events")
    # raw_events keeps the body as sent
    payload = warehouse.query("SELECT payload FROM raw_events WHERE event_id = 'e2'")[0][0]
    assert json.loads(payload)["email"] == f"  {SECRET_EMAIL.upper()} "


def test_blank_lines_are_skipped_and_lines_keep_their_numbers(warehouse: Warehouse):
    path = warehouse.events / "crlf.jsonl"
    body = "\r\n".join(
        [json.dumps(event(1)), "", "   ", json.dumps(event(2)), "oops", json.dumps(event(3))]
    )
    path.write_bytes(body.encode())
    report = warehouse.ingest()
    assert (report.rows_read, report.rows_loaded) == (4, 3)
    assert warehouse.query("SELECT event_id, line_number FROM raw_events ORDER BY 2") == [
        ("e1", 1),
        ("e2", 4),
        ("e3", 6),
    ]
    assert warehouse.rejects() == {("crlf.jsonl", 5, None, "line", "invalid_json", False)}


def test_a_line_that_is_not_utf8_is_rejected_by_number(warehouse: Warehouse):
    path = warehouse.events / "latin1.jsonl"
    lines = [json.dumps(event(1)).encode(), b'{"event_id": "e2", "email": "j\xe9r\xf4me@x.fr"}']
    lines.append(json.dumps(event(3)).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = warehouse.ingest()
    assert report.rows_loaded == 2
    assert warehouse.query("SELECT event_id, line_number FROM raw_events ORDER BY 2") == [
        ("e1", 1),
        ("e3", 3),
    ]
    assert warehouse.rejects() == {("latin1.jsonl", 2, None, "line", "not_utf8", False)}


EVENTS = [
    event(
        1,
        email=SECRET_EMAIL,
        phone=SECRET_PHONE,
        fbclid=" IwAR1 ",
        valuation_properties={
            "action": "purchase",
            "properties": {"value": 99.99, "currency": "usd", "transaction_id": "T1"},
        },
    ),
    event(2, created_at="2026-07-01T23:30:00-02:00", gaclid="EAIaIQ", platform="ios"),
    event(3, gclid="G3", gaclid="other", valuation_properties={"action": "login"}),
    event(4, anonymous_id=None, email=SECRET_EMAIL, valuation_properties=None),
    event(
        5,
        created_at="2026-07-02 08:00:00",
        valuation_properties={"action": "add_to_cart", "properties": {"value": "12.50"}},
    ),
]
EXPECTED = [
    (
        "e1",
        datetime(2026, 7, 1, 10),
        date(2026, 7, 1),
        "web",
        "purchase",
        99.99,
        "USD",
        "anon-1",
        uid2_hash(SECRET_EMAIL),
        uid2_hash(SECRET_PHONE),
        "IwAR1",
        None,
    ),
    (
        "e2",
        datetime(2026, 7, 2, 1, 30),
        date(2026, 7, 2),
        "ios",
        "pageview",
        None,
        None,
        "anon-2",
        None,
        None,
        None,
        "EAIaIQ",
    ),
    (
        "e3",
        datetime(2026, 7, 1, 10),
        date(2026, 7, 1),
        "web",
        "login",
        None,
        None,
        "anon-3",
        None,
        None,
        None,
        "G3",
    ),
    (
        "e4",
        datetime(2026, 7, 1, 10),
        date(2026, 7, 1),
        "web",
        None,
        None,
        None,
        None,
        uid2_hash(SECRET_EMAIL),
        None,
        None,
        None,
    ),
    (
        "e5",
        datetime(2026, 7, 2, 8),
        date(2026, 7, 2),
        "web",
        "add_to_cart",
        12.5,
        None,
        "anon-5",
        None,
        None,
        None,
        None,
    ),
]
IDENTITY_COLUMNS = (
    "event_id, created_at, day, platform, action, value, currency, anonymous_id, email_hash, "
    "phone_hash, fbclid, gclid"
)


@pytest.mark.parametrize("name", ["events.jsonl", "events.jsonl.gz", "events.parquet"])
def test_every_format_gives_the_same_events(warehouse: Warehouse, name: str):
    if name.endswith(".parquet"):
        write_parquet(warehouse.events, name, EVENTS)
    else:
        write_jsonl(warehouse.events, name, EVENTS)
    report = warehouse.ingest()
    assert (report.files_loaded, report.rows_loaded, report.rows_rejected) == (1, 5, 0)
    assert report.days == {date(2026, 7, 1), date(2026, 7, 2)}
    rows = warehouse.query(f"SELECT {IDENTITY_COLUMNS} FROM identity_events ORDER BY event_id")
    assert rows == EXPECTED
    properties = warehouse.query(
        "SELECT CAST(properties AS VARCHAR) FROM identity_events WHERE event_id = 'e1'"
    )[0][0]
    assert json.loads(properties) == EVENTS[0]["valuation_properties"]["properties"]
    raw = warehouse.query("SELECT event_id, email, gclid, payload FROM raw_events ORDER BY 1")
    assert raw[0][1] == SECRET_EMAIL  # raw_events is the one raw table
    assert [r[2] for r in raw] == [None, "EAIaIQ", "G3", None, None]
    assert json.loads(raw[0][3])["valuation_properties"] == EVENTS[0]["valuation_properties"]


def test_parquet_with_typed_columns_and_a_missing_required_column(warehouse: Warehouse):
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"""
        COPY (SELECT 'p1' AS event_id, TIMESTAMPTZ '2026-07-03 01:00:00+02' AS created_at,
                     'anon-p' AS "Anonymous_ID",
                     {{'action': 'purchase', 'properties': {{'value': 5, 'currency': 'EUR'}}}}
                         AS valuation_properties)
        TO '{warehouse.events / "typed.parquet"}' (FORMAT parquet);
        COPY (SELECT 'p2' AS event_id, 'anon' AS anonymous_id)
        TO '{warehouse.events / "no_created_at.parquet"}' (FORMAT parquet);
        COPY (SELECT * FROM (VALUES
                ('t1', '2026-07-03T10:00:00Z', 'a', '{{"action": "login"}}'),
                ('t2', '2026-07-03T10:00:00Z', 'a', '{{"action": '),
                ('t3', '2026-07-03T10:00:00Z', 'a', NULL))
              AS t(event_id, created_at, anonymous_id, valuation_properties))
        TO '{warehouse.events / "text_json.parquet"}' (FORMAT parquet);
        """
    )
    con.close()
    report = warehouse.ingest()
    assert report.files_loaded == 2
    assert warehouse.rejects() == {
        ("text_json.parquet", 2, "t2", "valuation_properties", "wrong_type", False)
    }
    assert warehouse.query(
        "SELECT event_id, action FROM identity_events WHERE source_file = 'text_json.parquet' "
        "ORDER BY 1"
    ) == [("t1", "login"), ("t3", None)]
    assert report.files_failed == [
        "no_created_at.parquet: missing column(s): created_at; found: event_id, anonymous_id"
    ]
    assert warehouse.query(
        "SELECT event_id, created_at, anonymous_id, action, value, currency FROM identity_events "
        "WHERE source_file = 'typed.parquet'"
    ) == [("p1", datetime(2026, 7, 2, 23), "anon-p", "purchase", 5.0, "EUR")]


def test_unreadable_files_fail_by_name_and_the_others_still_load(warehouse: Warehouse):
    write_jsonl(warehouse.events, "good.jsonl", [event(1)])
    good = gzip.compress(json.dumps(event(2, email=SECRET_EMAIL)).encode() * 50)
    (warehouse.events / "truncated.jsonl.gz").write_bytes(good[: len(good) // 2])
    (warehouse.events / "garbage.parquet").write_bytes(b"PAR1" + SECRET_EMAIL.encode() * 10)
    (warehouse.events / "empty.jsonl").write_bytes(b"")
    (warehouse.events / "notes.txt").write_text("not an event file")
    report = warehouse.ingest()
    assert report.files_seen == 4 and report.files_loaded == 1
    failed = dict(m.split(": ", 1) for m in report.files_failed)
    assert set(failed) == {"truncated.jsonl.gz", "garbage.parquet", "empty.jsonl"}
    assert failed["empty.jsonl"] == "empty file (0 bytes)"
    assert all(SECRET_EMAIL not in m and "very.private" not in m for m in report.files_failed)
    statuses = dict(warehouse.query("SELECT file_path, status FROM event_files"))
    assert statuses == {
        "good.jsonl": "loaded",
        "truncated.jsonl.gz": "failed",
        "garbage.parquet": "failed",
        "empty.jsonl": "failed",
    }
    assert warehouse.query("SELECT event_id FROM raw_events") == [("e1",)]
    assert "very.private" not in warehouse.dump("event_files")
    # an unchanged failed file is not retried; a fixed one is
    assert warehouse.ingest().files_loaded == 0
    write_jsonl(warehouse.events, "truncated.jsonl.gz", [event(2)])
    assert warehouse.ingest().rows_loaded == 1
    assert warehouse.query("SELECT status FROM event_files WHERE file_path = 'truncated.jsonl.gz'")[
        0
    ] == ("loaded",)


def test_incremental_by_checksum_and_a_grown_file_adds_only_new_events(warehouse: Warehouse):
    rows = [event(n) for n in range(5)]
    path = write_jsonl(warehouse.events, "day.jsonl", rows)
    first = warehouse.ingest()
    assert (first.files_loaded, first.rows_loaded, first.ingest_seq) == (1, 5, 1)

    again = warehouse.ingest()
    assert (again.files_seen, again.files_unchanged, again.files_loaded) == (1, 1, 0)
    assert again.ingest_seq is None
    assert warehouse.query("SELECT count(*) FROM raw_events") == [(5,)]

    with path.open("a") as handle:  # the same file grows: 2 new events and one bad line
        handle.write(json.dumps(event(5)) + "\n" + json.dumps(event(6)) + "\n{bad\n")
    grown = warehouse.ingest()
    assert (grown.rows_read, grown.rows_loaded, grown.duplicates) == (8, 2, 5)
    assert grown.ingest_seq == 2
    assert warehouse.query("SELECT ingest_seq, count(*) FROM raw_events GROUP BY 1 ORDER BY 1") == [
        (1, 5),
        (2, 2),
    ]
    assert warehouse.query(
        "SELECT row_count, stored_rows, duplicate_rows, rejected_rows FROM event_files"
    ) == [(8, 2, 5, 1)]
    assert warehouse.rejects() == {("day.jsonl", 8, None, "line", "invalid_json", False)}
    assert warehouse.query("SELECT count(*) FROM identity_events") == [(7,)]


def test_duplicates_within_and_across_files_are_kept_once(warehouse: Warehouse):
    write_jsonl(warehouse.events, "a.jsonl", [event(1), event(2), event(1, anonymous_id="later")])
    write_jsonl(warehouse.events, "b.jsonl.gz", [event(2), event(3)])
    report = warehouse.ingest()
    assert (report.rows_read, report.rows_loaded, report.duplicates) == (5, 3, 2)
    assert warehouse.query(
        "SELECT event_id, anonymous_id, source_file FROM identity_events ORDER BY 1"
    ) == [("e1", "anon-1", "a.jsonl"), ("e2", "anon-2", "a.jsonl"), ("e3", "anon-3", "b.jsonl.gz")]
    # the same file landed again under another name adds nothing
    write_jsonl(warehouse.events, "copy.jsonl", [event(1), event(2), event(3)])
    copy = warehouse.ingest()
    assert (copy.files_loaded, copy.rows_loaded, copy.duplicates) == (1, 0, 3)
    assert warehouse.query("SELECT count(*) FROM raw_events") == [(3,)]


def test_late_files_land_in_their_days(warehouse: Warehouse):
    write_jsonl(
        warehouse.events,
        "2026-07-10.jsonl",
        [event(n, created_at=f"2026-07-10T0{n}:00:00Z") for n in range(3)],
    )
    warehouse.ingest()
    before = warehouse.query("SELECT * FROM identity_events ORDER BY event_id")
    write_jsonl(
        warehouse.events,
        "late.jsonl",
        [
            event("late1", created_at="2026-07-03T23:59:59.999Z"),
            event("late2", created_at="2026-07-04T01:00:00+03:00"),
        ],
    )
    report = warehouse.ingest()
    assert report.days == {date(2026, 7, 3)}
    assert warehouse.query(
        "SELECT event_id, day FROM identity_events WHERE source_file = 'late.jsonl' ORDER BY 1"
    ) == [("elate1", date(2026, 7, 3)), ("elate2", date(2026, 7, 3))]
    assert (
        warehouse.query(
            "SELECT * FROM identity_events WHERE source_file <> 'late.jsonl' ORDER BY 1"
        )
        == before
    )


def test_events_of_forgotten_identifiers_are_dropped_and_counted(warehouse: Warehouse):
    with_forgotten = [
        event(1, email=f" {SECRET_EMAIL.upper()}"),  # by the UID2 hash of the normalized email
        event(2, phone="(212) 555-0143"),  # by the UID2 hash of the E.164 phone
        event(3, anonymous_id=" device-9 "),  # by the hash of the trimmed value
        event(4, fbclid="IwAR-forgotten"),
        event(5, gaclid="G-forgotten"),  # gaclid is a gclid
        event(6),
        event(7, email="someone.else@example.com"),
    ]
    with_forgotten.append(event(8, anonymous_id=None, email="not an email"))  # rejected first
    forgotten = [
        ("email", uid2_hash(SECRET_EMAIL)),
        ("phone", uid2_hash(SECRET_PHONE)),
        ("anonymous_id", identifier_hash("device-9")),
        ("fbclid", identifier_hash("IwAR-forgotten")),
        ("gclid", identifier_hash("G-forgotten")),
    ]
    with connect(warehouse.path) as con:
        con.executemany(
            "INSERT INTO forgotten_identifiers VALUES (?, ?, 'req-1', TIMESTAMP '2026-07-01')",
            forgotten,
        )
    write_jsonl(warehouse.events, "old.jsonl", with_forgotten)
    report = warehouse.ingest()
    assert (report.rows_loaded, report.forgotten, report.rows_rejected) == (2, 5, 1)
    assert warehouse.query("SELECT event_id FROM raw_events ORDER BY 1") == [("e6",), ("e7",)]
    assert warehouse.query("SELECT forgotten_rows FROM event_files") == [(5,)]
    # nothing about the forgotten events is written anywhere
    assert {r[2] for r in warehouse.rejects()} == {"e8"}


def test_identifier_hash_is_the_sql_hash():
    assert identifier_hash("  abc ") == uid2_hash("abc")
    with pytest.raises(ValueError, match="blank"):
        identifier_hash("   ")


def test_files_the_identity_service_publishes_are_ingested(tmp_path: Path, warehouse: Warehouse):
    log = EventLog(
        tmp_path / "service", warehouse.events.parent, segment_bytes=1 << 20, segment_seconds=60
    )
    bodies = [
        {
            "platform": "web",
            "count_prev_visits": True,
            "anonymous_id": "anon-s",
            "email": SECRET_EMAIL,
            "event_id": "5b0e7c52-93d4-4e43-9b0c-6f1d2b0d9a01",
            "created_at": "2026-07-05T12:00:00.123456Z",
        },
        {
            "platform": "app",
            "anonymous_id": "anon-s",
            "valuation_properties": {"action": "purchase", "properties": {"value": 3}},
            "event_id": "5b0e7c52-93d4-4e43-9b0c-6f1d2b0d9a02",
            "created_at": "2026-07-05T12:01:00.000001Z",
        },
    ]
    segment = log.wal_dir / "segment-000000001.jsonl"
    segment.write_bytes(b"".join(json.dumps(b).encode() + b"\n" for b in bodies) + b'{"torn')
    assert len(list(log.recover())) == 2  # cuts the torn tail and publishes into landing
    published = sorted(p.name for p in warehouse.events.iterdir())
    assert published == [f"service-{log.log_id}-000000001.jsonl"]
    report = warehouse.ingest()
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert warehouse.query(
        "SELECT event_id, created_at, anonymous_id, email_hash, action FROM identity_events "
        "ORDER BY created_at"
    ) == [
        (
            bodies[0]["event_id"],
            datetime(2026, 7, 5, 12, 0, 0, 123456),
            "anon-s",
            uid2_hash(SECRET_EMAIL),
            None,
        ),
        (bodies[1]["event_id"], datetime(2026, 7, 5, 12, 1, 0, 1), "anon-s", None, "purchase"),
    ]
