"""The graph refresh from raw_events and customer_dii, and the persons and person_journal
tables built on it, on real DuckDB files."""

import json
from pathlib import Path

import duckdb

from identity_pipeline.dev.events import event_params, events_query
from identity_pipeline.identity_graph.persons import person_id_for
from identity_pipeline.identity_graph.refresh import (
    position,
    refresh_graph,
    refresh_journal,
    refresh_persons,
)
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline_tests.identity_graph.conftest import at, graph, load_events
from identity_pipeline_tests.identity_graph.landed import (
    add_customer,
    hashes,
    land_events,
    land_generated,
)


def refresh_all(con: duckdb.DuckDBPyConnection, full: bool = False):
    result = refresh_graph(con, full_rebuild=full)
    refresh_persons(con)
    refresh_journal(con)
    return result


def test_a_crm_customer_with_two_emails_joins_the_two_visitors_who_used_them(
    con: duckdb.DuckDBPyConnection,
):
    land_events(
        con,
        [
            {"event_id": "a1", "created_at": 0, "anonymous_id": "laptop"},
            {"event_id": "a2", "created_at": 5, "anonymous_id": "laptop", "email": "ann@x.com"},
            {"event_id": "b1", "created_at": 60, "anonymous_id": "phone"},
            {"event_id": "b2", "created_at": 61, "anonymous_id": "phone", "email": "ann@work.com"},
        ],
        ingest_seq=1,
    )
    first = refresh_all(con)
    assert first.stitch.events == 4 and first.crm_links == 0
    assert con.execute("SELECT count(*) FROM persons").fetchone() == (2,)

    add_customer(con, "C1", emails=["ann@x.com", " ANN@work.com"], seen=100)
    second = refresh_all(con)
    assert second.stitch.events == 0 and second.crm_links == 2
    ann = person_id_for("anonymous_id", "laptop")  # seen first: survives
    email_x, email_work = hashes(con, [("email", "ann@x.com"), ("email", "ann@work.com")])
    assert graph(con) == {
        ("anonymous_id", "laptop"): ann,
        ("anonymous_id", "phone"): ann,
        ("email", email_x): ann,
        ("email", email_work): ann,
        ("customer_id", "C1"): ann,
    }
    merged = con.execute(
        "SELECT old_person_id, new_person_id, reason, caused_by_event_id FROM person_merges"
    ).fetchall()
    (dii_work,) = con.execute(
        "SELECT dii_id FROM dii WHERE uid2_hash = $h", {"h": email_work}
    ).fetchone() or (None,)
    assert merged == [
        (person_id_for("anonymous_id", "phone"), ann, "merge", f"customer_dii:C1:{dii_work}")
    ]
    row = con.execute(
        "SELECT events, visits, identifiers, customer_id_count, emails, anonymous_ids, "
        "len(dii_ids), customer_ids, first_seen_at, last_seen_at FROM persons"
    ).fetchall()
    assert row == [(4, 2, 5, 1, 2, 2, 2, ["C1"], at(0), at(61))]
    assert con.execute("SELECT count(DISTINCT person_id) FROM person_journal").fetchone() == (1,)

    # nothing new: nothing stitched, nothing rewritten
    third = refresh_graph(con)
    assert (third.stitch.events, third.crm_links, third.stitch.changes_by_reason) == (0, 0, {})
    assert refresh_persons(con).rows_written == 0


def test_crm_only_customers_are_persons_without_activity(con: duckdb.DuckDBPyConnection):
    add_customer(con, "C7", emails=["solo@x.com"], phones=["+14155550123"], seen=3)
    refresh_all(con)
    rows = con.execute(
        "SELECT anchor_type, events, visits, emails, phones, len(dii_ids), customer_ids, "
        "first_seen_at, last_seen_at FROM persons"
    ).fetchall()
    assert rows == [("customer_id", 0, 0, 1, 1, 2, ["C7"], at(3), at(3))]


def test_journal_order_payload_and_visits(con: duckdb.DuckDBPyConnection):
    cart = {"product_id": "P1", "value": 19.5, "currency": "EUR", "note": "ünïcode ✓"}
    minutes = {"e1": 0, "e2": 10, "e3": 45, "e4": 75, "e5": 200, "e6": 200}
    land_events(
        con,
        [
            {"event_id": e, "created_at": m, "anonymous_id": "dev", "action": "pageview"}
            for e, m in minutes.items()
            if e != "e4"
        ]
        + [
            {
                "event_id": "e4",
                "created_at": 75,
                "anonymous_id": "dev",
                "platform": "ios",
                "action": "add_to_cart",
                "properties": cart,
            },
            # a QA value alone belongs to nobody
            {"event_id": "qa", "created_at": 1, "anonymous_id": "anonymous"},
        ],
        ingest_seq=1,
    )
    refresh_all(con)
    journal = con.execute(
        "SELECT event_id, created_at, visit, platform, action, properties, value, currency "
        "FROM person_journal ORDER BY created_at DESC, event_id DESC"
    ).fetchall()
    assert [(e, v) for e, _, v, *_ in journal] == [
        ("e6", 3),
        ("e5", 3),  # 125 minutes after e4: a new visit
        ("e4", 2),  # exactly 30 minutes after e3: the same visit
        ("e3", 2),  # 35 minutes after e2: a new visit
        ("e2", 1),
        ("e1", 1),
    ]
    e4 = journal[2]
    assert e4[3:5] == ("ios", "add_to_cart")
    assert json.loads(e4[5]) == cart  # properties as sent
    assert (e4[6], e4[7]) == (19.5, "EUR")
    persons = con.execute("SELECT events, visits, last_seen_at FROM persons").fetchall()
    assert persons == [(6, 3, at(200))]

    # a late event fills the gap between visits 1 and 2: they become one, numbers follow
    land_events(con, [{"event_id": "late", "created_at": 25, "anonymous_id": "dev"}], 2)
    refresh_all(con)
    visits = con.execute(
        "SELECT event_id, visit FROM person_journal ORDER BY created_at, event_id"
    ).fetchall()
    assert [v for _, v in visits] == [1, 1, 1, 1, 1, 2, 2]
    assert con.execute("SELECT events, visits FROM persons").fetchall() == [(7, 2)]


def test_the_watermark_stitches_each_ingest_once_and_retired_persons_leave(
    con: duckdb.DuckDBPyConnection,
):
    land_events(con, [{"event_id": "x1", "created_at": 0, "anonymous_id": "d1"}], 1)
    land_events(con, [{"event_id": "x2", "created_at": 5, "anonymous_id": "d2"}], 2)
    assert refresh_all(con).stitch.events == 2
    assert position(con, "raw_events") == 2
    assert con.execute("SELECT count(*) FROM persons").fetchone() == (2,)
    land_events(
        con,
        [{"event_id": "x3", "created_at": 9, "anonymous_id": "d2", "email": "d@x.com"}],
        3,
    )
    land_events(
        con,
        [{"event_id": "x4", "created_at": 10, "anonymous_id": "d1", "email": "d@x.com"}],
        3,
    )
    result = refresh_all(con)
    assert result.stitch.events == 2  # only ingest run 3
    assert result.stitch.changes_by_reason == {"merge": 1}
    assert con.execute("SELECT person_id, events FROM persons").fetchall() == [
        (person_id_for("anonymous_id", "d1"), 4)
    ]
    assert con.execute("SELECT count(DISTINCT person_id) FROM person_journal").fetchone() == (1,)
    # both tables caught up: the change log is pruned
    assert con.execute("SELECT count(*) FROM identity_person_changes").fetchone() == (0,)


def _generated(con: duckdb.DuckDBPyConnection, events: int) -> None:
    con.execute(
        f"CREATE TABLE all_events AS SELECT * FROM ({events_query()})",
        event_params(11, 0, events, events // 12),
    )


def _customers(con: duckdb.DuckDBPyConnection) -> None:
    """CRM customers over some of the generated emails: one each, one with two."""
    emails = [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT lower(trim(email)) FROM all_events WHERE email LIKE '%@gmail.com' "
            "ORDER BY 1 LIMIT 40"
        ).fetchall()
    ]
    for n in range(0, 40, 2):
        add_customer(con, f"C{n}", emails=emails[n : n + 2] if n % 4 == 0 else emails[n : n + 1])


def _tables(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], ...]:
    return tuple(
        con.execute(f"SELECT * EXCLUDE ({ts}) FROM {table} ORDER BY ALL").fetchall()
        for table, ts in (
            ("persons", "updated_at"),
            ("person_journal", "day"),
            ("identity_graph", "updated_at"),
            ("identity_persons", "updated_at"),
        )
    )


def test_incremental_person_tables_equal_a_full_rebuild(tmp_path: Path):
    incremental = duckdb.connect(str(tmp_path / "incremental.duckdb"))
    _generated(incremental, 6_000)
    for batch in range(4):  # ingest runs out of time order, CRM customers in between
        incremental.execute(
            "CREATE OR REPLACE TEMP VIEW batch AS SELECT * FROM all_events "
            f"WHERE hash(event_id) % 4 = {batch}"
        )
        land_generated(incremental, "batch", ingest_seq=batch + 1)
        if batch == 1:
            _customers(incremental)
        if batch == 2:  # persons and the journal catch up with two stitch runs at once
            refresh_graph(incremental)
        else:
            refresh_all(incremental)
    merges = dict(
        incremental.execute("SELECT reason, count(*) FROM person_merges GROUP BY 1").fetchall()
    )
    assert merges.get("merge", 0) > 0

    scratch = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    _generated(scratch, 6_000)
    land_generated(scratch, "all_events", ingest_seq=1)
    _customers(scratch)
    refresh_all(scratch)
    assert _tables(incremental) == _tables(scratch)
    persons = scratch.execute(
        "SELECT count(*), count(*) FILTER (WHERE anonymous_ids > 1), "
        "count(*) FILTER (WHERE len(customer_ids) > 0) FROM persons"
    ).fetchone()
    assert persons is not None and persons[1] > 0 and persons[2] > 0

    # a full rebuild in place changes no UUID and no row
    before = _tables(incremental)
    again = refresh_graph(incremental, full_rebuild=True)
    assert again.stitch.changes_by_reason == {}
    refresh_persons(incremental)
    refresh_journal(incremental)
    assert _tables(incremental) == before
    full = refresh_persons(incremental, full=True)
    assert full.full and _tables(incremental) == before


def test_events_without_the_asset_match_the_stitcher_alone(con: duckdb.DuckDBPyConnection):
    """refresh_graph over raw_events stitches exactly what stitch_events does over the same
    rows (gclid carried in raw_events.gclid)."""
    rows = [
        {"event_id": "g1", "created_at": 0, "anonymous_id": "d1", "gclid": "CLICK"},
        {"event_id": "g2", "created_at": 3, "anonymous_id": "d2", "gclid": "CLICK"},
        {"event_id": "g3", "created_at": 4, "email": "z@x.com", "phone": "(415) 555-0100"},
        {"event_id": "g4", "created_at": 5, "anonymous_id": "d2", "phone": "+14155550100"},
    ]
    land_events(con, rows, 1)
    refresh_graph(con)
    ours = graph(con)
    other = duckdb.connect()
    load_events(other, "batch", rows)
    stitch_events(other, "batch")
    assert ours == graph(other)
    assert len(set(ours.values())) == 1
