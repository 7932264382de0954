"""Hand-built stitching cases on real DuckDB files."""

import base64
import hashlib

import duckdb
import pytest

from identity_pipeline.identity_graph.persons import person_id_for, resolve_person_id
from identity_pipeline.identity_graph.rules import StitchingRules
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline_tests.identity_graph.conftest import at, graph, load_events


def h(normalized: str) -> str:
    """The UID2 hash `dii` stores for a normalized email or phone."""
    return base64.b64encode(hashlib.sha256(normalized.encode()).digest()).decode()


def stitch(con: duckdb.DuckDBPyConnection, rows: list[dict], **kwargs) -> None:
    load_events(con, "batch", rows)
    stitch_events(con, "batch", **kwargs)


def test_a_login_joins_two_devices(con: duckdb.DuckDBPyConnection):
    stitch(
        con,
        [
            {"event_id": "e1", "created_at": 0, "anonymous_id": "phone-app"},
            {"event_id": "e2", "created_at": 5, "anonymous_id": "laptop"},
            {"event_id": "e3", "created_at": 9, "anonymous_id": "laptop", "email": "Ann@X.com "},
            {
                "event_id": "e4",
                "created_at": 20,
                "anonymous_id": "phone-app",
                "email": "ann@x.com",
                "platform": "ios",
            },
            {"event_id": "e5", "created_at": 30, "anonymous_id": "stranger"},
        ],
    )
    g = graph(con)
    ann = person_id_for("anonymous_id", "phone-app")  # seen first
    assert g == {
        ("anonymous_id", "phone-app"): ann,
        ("anonymous_id", "laptop"): ann,
        ("email", h("ann@x.com")): ann,  # only the hash is stored
        ("anonymous_id", "stranger"): person_id_for("anonymous_id", "stranger"),
    }
    person = con.execute(
        "SELECT anchor_type, anchor_value, identifiers, emails, anonymous_ids, first_seen_at "
        "FROM identity_persons WHERE person_id = $p",
        {"p": ann},
    ).fetchall()
    assert person == [("anonymous_id", "phone-app", 3, 1, 2, at(0))]
    raw = con.execute(
        "SELECT count(*) FROM identity_identifiers WHERE id_value ILIKE '%ann%'"
    ).fetchone()
    assert raw == (0,)


def test_a_phone_joins_two_emails_and_gaclid_is_gclid(con: duckdb.DuckDBPyConnection):
    stitch(
        con,
        [
            {"event_id": "e1", "created_at": 0, "email": "bob@work.com", "phone": "+14155550100"},
            {"event_id": "e2", "created_at": 1, "email": "bob@home.com", "phone": "(415) 555-0100"},
            {"event_id": "e3", "created_at": 2, "anonymous_id": "d1", "gclid": "CLICK1"},
            {"event_id": "e4", "created_at": 3, "email": "bob@home.com", "gaclid": "CLICK1"},
        ],
    )
    g = graph(con)
    bob = person_id_for("email", h("bob@work.com"))
    assert set(g.values()) == {bob}
    assert set(g) == {
        ("email", h("bob@work.com")),
        ("email", h("bob@home.com")),
        ("phone", h("+14155550100")),  # the national spelling normalized to the same E.164
        ("gclid", "CLICK1"),
        ("anonymous_id", "d1"),
    }


def test_qa_values_and_hubs_join_nobody(con: duckdb.DuckDBPyConnection):
    rows = [
        {
            "event_id": f"q{i}",
            "created_at": i,
            "anonymous_id": f"dev{i}",
            "email": ["test@test.com", " TEST@test.com", "test@test.com"][i % 3],
        }
        for i in range(3)
    ]
    rows += [
        {"event_id": f"n{i}", "created_at": 10 + i, "anonymous_id": qa, "email": f"u{i}@x.org"}
        for i, qa in enumerate(["anonymous", "null", "-1", "0000", "NULL"])
    ]
    # a call centre's phone typed in for six customers (phone -> email limit: 5)
    rows += [
        {
            "event_id": f"c{i}",
            "created_at": 20 + i,
            "email": f"caller{i}@y.org",
            "phone": "+18005550199",
        }
        for i in range(6)
    ]
    rows += [{"event_id": "z", "created_at": 40, "phone": "0000000000", "anonymous_id": "dev0"}]
    stitch(con, rows)
    g = graph(con)
    assert len(set(g.values())) == len(g) == 3 + 5 + 6  # everyone alone
    hubs = con.execute(
        "SELECT id_type, id_value, reason, linked_type, fan_out FROM identity_hubs ORDER BY ALL"
    ).fetchall()
    assert hubs == sorted(
        [
            ("email", h("test@test.com"), "blocked_value", "anonymous_id", 3),
            ("anonymous_id", "anonymous", "blocked_value", "email", 1),
            ("anonymous_id", "null", "blocked_value", "email", 1),
            ("anonymous_id", "NULL", "blocked_value", "email", 1),
            ("anonymous_id", "-1", "blocked_value", "email", 1),
            ("anonymous_id", "0000", "blocked_value", "email", 1),
            ("phone", h("+18005550199"), "fan_out", "email", 6),
        ]
    )
    # the invalid phone is no identifier at all; a 5-way shared phone is not a hub
    assert ("phone", h("0000000000")) not in g
    stitch(
        con,
        [
            {
                "event_id": f"s{i}",
                "created_at": 50 + i,
                "email": f"fam{i}@z.org",
                "phone": "+14155550123",
            }
            for i in range(5)
        ],
    )
    family = {p for k, p in graph(con).items() if k == ("phone", h("+14155550123"))}
    assert len(family) == 1
    assert sum(1 for p in graph(con).values() if p in family) == 6


def test_a_merge_keeps_the_survivors_id_and_logs_it(con: duckdb.DuckDBPyConnection):
    stitch(
        con,
        [
            {"event_id": "e1", "created_at": 0, "anonymous_id": "old-device"},
            {"event_id": "e2", "created_at": 10, "anonymous_id": "new-device", "email": "c@x.com"},
        ],
    )
    older = person_id_for("anonymous_id", "old-device")
    younger = person_id_for("email", h("c@x.com"))  # same time as new-device: emails rank first
    assert set(graph(con).values()) == {older, younger}
    stitch(
        con,
        [
            {"event_id": "e3", "created_at": 20, "anonymous_id": "old-device"},
            {"event_id": "e4", "created_at": 30, "anonymous_id": "old-device", "email": "C@x.com"},
        ],
    )
    assert set(graph(con).values()) == {older}
    merges = con.execute(
        "SELECT old_person_id, new_person_id, reason, caused_by_event_id, caused_at "
        "FROM person_merges"
    ).fetchall()
    assert merges == [(younger, older, "merge", "e4", at(30))]
    assert resolve_person_id(con, younger) == older
    assert resolve_person_id(con, older) == older
    assert resolve_person_id(con, "00000000-0000-5000-8000-000000000000") is None
    # a third person merging in later: the retired ID still resolves, through the chain
    stitch(
        con,
        [
            {"event_id": "e5", "created_at": -5, "anonymous_id": "oldest"},
            {"event_id": "e6", "created_at": 40, "anonymous_id": "oldest", "email": "c@x.com"},
        ],
    )
    oldest = person_id_for("anonymous_id", "oldest")
    assert set(graph(con).values()) == {oldest}
    assert resolve_person_id(con, younger) == oldest
    assert resolve_person_id(con, older) == oldest


def test_a_split_keeps_the_anchors_id(con: duckdb.DuckDBPyConnection):
    rules = StitchingRules(max_links={"anonymous_id": 2})
    stitch(
        con,
        [
            {"event_id": "e0", "created_at": -1, "anonymous_id": "A"},
            {"event_id": "e1", "created_at": 0, "anonymous_id": "A", "email": "shared@x.com"},
            {"event_id": "e2", "created_at": 5, "anonymous_id": "B", "email": "shared@x.com"},
            {"event_id": "e3", "created_at": 6, "anonymous_id": "B", "email": "b@x.com"},
        ],
        rules=rules,
    )
    a = person_id_for("anonymous_id", "A")  # the anchor: seen first
    assert set(graph(con).values()) == {a}
    # a third device on the shared email makes it a hub: A keeps the UUID, B's part splits off
    stitch(
        con,
        [{"event_id": "e4", "created_at": 9, "anonymous_id": "C", "email": "shared@x.com"}],
        rules=rules,
    )
    b = person_id_for("anonymous_id", "B")
    c = person_id_for("anonymous_id", "C")
    assert graph(con) == {
        ("anonymous_id", "A"): a,
        ("anonymous_id", "B"): b,
        ("email", h("b@x.com")): b,
        ("anonymous_id", "C"): c,
    }
    assert con.execute(
        "SELECT old_person_id, new_person_id, reason, caused_by_event_id FROM person_merges"
    ).fetchall() == [(a, b, "split", "e4")]
    assert con.execute("SELECT id_type, reason, fan_out FROM identity_hubs").fetchall() == [
        ("email", "fan_out", 3)
    ]
    assert resolve_person_id(con, a) == a


def test_the_anchor_becoming_a_hub_retires_the_person_to_its_parts(
    con: duckdb.DuckDBPyConnection,
):
    rules = StitchingRules(max_links={"anonymous_id": 2})
    stitch(
        con,
        [
            {"event_id": "e1", "created_at": 0, "email": "shared@x.com"},
            {"event_id": "e2", "created_at": 1, "anonymous_id": "A", "email": "shared@x.com"},
            {"event_id": "e3", "created_at": 2, "anonymous_id": "B", "email": "shared@x.com"},
        ],
        rules=rules,
    )
    shared = person_id_for("email", h("shared@x.com"))
    stitch(
        con,
        [{"event_id": "e4", "created_at": 3, "anonymous_id": "C", "email": "shared@x.com"}],
        rules=rules,
    )
    a, b = person_id_for("anonymous_id", "A"), person_id_for("anonymous_id", "B")
    assert sorted(
        con.execute("SELECT new_person_id, reason FROM person_merges").fetchall()
    ) == sorted([(a, "split"), (b, "split")])
    assert resolve_person_id(con, shared) == a  # the part seen first


def test_a_late_event_re_anchors_and_the_old_id_resolves(con: duckdb.DuckDBPyConnection):
    stitch(con, [{"event_id": "e2", "created_at": 10, "anonymous_id": "D", "email": "l@x.com"}])
    before = person_id_for("email", h("l@x.com"))
    assert set(graph(con).values()) == {before}
    stitch(con, [{"event_id": "e1", "created_at": 0, "anonymous_id": "D"}])
    after = person_id_for("anonymous_id", "D")
    assert set(graph(con).values()) == {after}
    assert con.execute("SELECT reason, caused_by_event_id FROM person_merges").fetchall() == [
        ("re_anchor", "e1")
    ]
    assert resolve_person_id(con, before) == after


def test_a_failed_run_leaves_the_graph_as_it_was(con: duckdb.DuckDBPyConnection):
    stitch(con, [{"event_id": "e1", "created_at": 0, "anonymous_id": "A", "email": "a@x.com"}])
    before = graph(con)
    load_events(
        con, "bad", [{"event_id": "e2", "created_at": 1, "anonymous_id": "B", "email": "a@x.com"}]
    )
    con.execute(
        "CREATE VIEW broken AS SELECT * REPLACE (CAST('x' AS VARCHAR) AS created_at) FROM bad"
    )
    with pytest.raises(duckdb.Error):
        stitch_events(con, "broken")
    assert graph(con) == before


def test_events_seen_again_rewrite_nothing(con: duckdb.DuckDBPyConnection):
    from datetime import datetime

    rows = [
        {"event_id": "e1", "created_at": 0, "anonymous_id": "A", "email": "a@x.com"},
        {"event_id": "e2", "created_at": 5, "anonymous_id": "B", "email": "a@x.com"},
    ]
    stitch(con, rows, now=datetime(2026, 11, 1))
    tables = ("identity_identifiers", "identity_links", "identity_graph", "identity_persons")
    before = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]
    report = stitch_events(con, "batch", now=datetime(2026, 11, 2))
    assert report.restitched_identifiers == 3
    assert report.changes_by_reason == {}
    after = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]
    assert after == before  # updated_at included: no row was rewritten
