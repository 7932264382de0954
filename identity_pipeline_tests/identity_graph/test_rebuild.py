"""Generated traffic: incremental runs equal a rebuild from scratch, whatever the input order,
batching or components method; UUIDs never change on a rebuild."""

from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from identity_pipeline.dev.events import event_params, events_query
from identity_pipeline.identity_graph.persons import person_id_for
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline_tests.identity_graph.conftest import load_events

EVENTS = 12_000


def _generated(con: duckdb.DuckDBPyConnection, events: int = EVENTS) -> None:
    con.execute(
        f"CREATE TABLE all_events AS SELECT * REPLACE (CAST(created_at AS TIMESTAMP) "
        f"AS created_at) FROM ({events_query()})",
        event_params(7, 0, events, events // 12),
    )


def _state(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], ...]:
    return tuple(
        con.execute(f"SELECT * EXCLUDE ({ts}) FROM {table} ORDER BY ALL").fetchall()
        for table, ts in (
            ("identity_graph", "updated_at"),
            ("identity_persons", "updated_at"),
            ("identity_identifiers", "id_key"),
            ("identity_links", "key_a, key_b"),
            ("identity_hubs", "first_detected_at, detected_at"),
        )
    )


def test_incremental_batches_equal_a_rebuild_and_a_rebuild_changes_no_uuid(tmp_path: Path):
    incremental = duckdb.connect(str(tmp_path / "incremental.duckdb"))
    _generated(incremental)
    for batch in range(4):  # batches arrive out of time order, late events included
        incremental.execute(
            f"CREATE OR REPLACE VIEW batch AS SELECT * FROM all_events "
            f"WHERE hash(event_id) % 4 = {batch}"
        )
        stitch_events(incremental, "batch")
    merges = incremental.execute("SELECT reason, count(*) FROM person_merges GROUP BY 1")
    assert dict(merges.fetchall()).get("merge", 0) > 0  # batches did merge people

    scratch = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    _generated(scratch)
    report = stitch_events(scratch, "all_events", full_rebuild=True)
    assert report.changes_by_reason == {}
    assert _state(incremental) == _state(scratch)
    assert report.new_hubs >= 4  # QA values and the call centre

    # a rebuild in place: no person's UUID changes, nothing is logged
    logged = incremental.execute("SELECT count(*) FROM person_merges").fetchone()
    again = stitch_events(incremental, "all_events", full_rebuild=True)
    assert again.changes_by_reason == {}
    assert incremental.execute("SELECT count(*) FROM person_merges").fetchone() == logged
    assert _state(incremental) == _state(scratch)

    # the SQL components give the same persons as scipy
    stitch_events(incremental, "all_events", full_rebuild=True, method="sql")
    assert _state(incremental) == _state(scratch)

    # every person's UUID is the uuid5 of its anchor
    persons = scratch.execute("SELECT person_id, anchor_type, anchor_value FROM identity_persons")
    for person_id, anchor_type, anchor_value in persons.fetchall():
        assert person_id == person_id_for(anchor_type, anchor_value)


def test_input_order_does_not_matter(tmp_path: Path):
    states = []
    for order in ("event_id", "created_at DESC, event_id", "md5(event_id)"):
        con = duckdb.connect(str(tmp_path / f"{len(states)}.duckdb"))
        _generated(con, 3000)
        con.execute(f"CREATE TABLE ordered AS SELECT * FROM all_events ORDER BY {order}")
        stitch_events(con, "ordered")
        states.append(_state(con))
    assert states[0] == states[1] == states[2]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=4))
def test_sql_uuids_match_pythons_uuid5_on_any_text(anonymous_ids: list[str]):
    con = duckdb.connect()
    load_events(
        con,
        "ev",
        [
            {"event_id": f"e{i}", "created_at": i, "anonymous_id": a}
            for i, a in enumerate(anonymous_ids)
        ],
    )
    from identity_pipeline.identity_graph.rules import StitchingRules

    stitch_events(con, "ev", rules=StitchingRules(blocked_patterns=()))
    for value, person_id in con.execute(
        "SELECT anchor_value, person_id FROM identity_persons"
    ).fetchall():
        assert person_id == person_id_for("anonymous_id", value)
    assert con.execute("SELECT count(*) FROM identity_persons").fetchone() == (
        len({a.strip() for a in anonymous_ids}),
    )
