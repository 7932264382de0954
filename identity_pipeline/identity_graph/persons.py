"""Stable person IDs: components -> persons, with merges and splits logged.

Rules (README "Identity graph"):
- A person's anchor is its earliest-seen identifier; ties go to the type earlier in
  `rules.ID_TYPES`, then to the smaller value. person_id = uuid5(PERSON_NAMESPACE,
  "<anchor type>:<anchor value>"). It is a function of the component alone, so an incremental
  run and a rebuild from scratch give the same UUIDs.
- Merge: the merged person's anchor is the older of the two anchors, so the person seen first
  survives and keeps its UUID; the other is retired, and `person_merges` records old -> new,
  the event that linked them and its time.
- Split (an identifier became a hub): the part holding the anchor keeps the UUID; other parts
  get the UUIDs of their own anchors and are logged as 'split' from it.
- A retired UUID resolves to its survivor through `person_merges` (`resolve_person_id`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Final

import duckdb

from identity_pipeline.identity_graph.components import Method, components
from identity_pipeline.identity_graph.rules import ID_TYPES
from identity_pipeline.identity_graph.sql_files import count, materialize, run

if TYPE_CHECKING:
    from identity_pipeline.engine.spark import SparkEngine

PERSON_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "identity_pipeline/person")
MAX_RESOLVE_HOPS = 1000


def person_id_for(anchor_type: str, anchor_value: str) -> str:
    """The UUID a person anchored at this identifier gets (the SQL computes the same)."""
    return str(uuid.uuid5(PERSON_NAMESPACE, f"{anchor_type}:{anchor_value}"))


def stage_persons(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool,
    method: Method,
    spark: SparkEngine | None = None,
) -> tuple[int, int]:
    """Re-stitch what this run can change into temp tables ig_new_graph, ig_new_persons and
    ig_person_changes. Needs ig_run_identifiers, ig_run_links and ig_new_hubs, and the
    persistent tables already merged. Components run by `method` (on `spark` for "spark");
    the rest stays on DuckDB. Returns (identifiers re-stitched, component rounds)."""
    con.execute("CREATE OR REPLACE TEMP TABLE ig_type_rank (id_type VARCHAR, type_rank INTEGER)")
    for rank, id_type in enumerate(ID_TYPES):
        con.execute(
            "INSERT INTO ig_type_rank VALUES ($id_type, $rank)", {"id_type": id_type, "rank": rank}
        )
    materialize(con, "ig_old_persons", "select_old_persons.sql", {"full": full})
    materialize(con, "ig_old_graph", "select_old_graph.sql")
    materialize(con, "ig_affected", "select_affected_identifiers.sql", {"full": full})
    materialize(con, "ig_affected_links", "select_affected_links.sql")
    rounds = components(con, "ig_affected_links", "ig_components", method, spark)
    materialize(
        con, "ig_new_graph", "select_new_graph.sql", {"namespace_hex": PERSON_NAMESPACE.hex}
    )
    materialize(con, "ig_new_persons", "select_new_persons.sql")
    materialize(con, "ig_person_changes", "select_person_changes.sql")
    return count(con, "SELECT count(*) FROM ig_affected"), rounds


def write_persons(con: duckdb.DuckDBPyConnection, *, now: datetime) -> None:
    """Write what changed: identity_graph rows whose person changed, persons rows that differ,
    and the change log. Rows that stay the same are not rewritten, so an incremental run writes
    little however many identifiers it re-stitched. Call inside the caller's transaction."""
    materialize(con, "ig_graph_removed", "select_graph_rows_removed.sql")
    materialize(con, "ig_graph_added", "select_graph_rows_added.sql")
    materialize(con, "ig_persons_added", "select_persons_added.sql")
    params = {"now": now}
    for name in (
        "delete_changed_identity_graph.sql",
        "insert_identity_graph.sql",
        "delete_changed_persons.sql",
        "insert_persons.sql",
        "insert_person_merges.sql",
    ):
        run(con, name, params)


def resolve_person_id(con: duckdb.DuckDBPyConnection, person_id: str) -> str | None:
    """The live person a UUID stands for: itself if alive, else its survivor, following
    `person_merges` (newest record first; of a split, the part seen first). None when the
    person dissolved (all its identifiers became hubs) or was never known."""
    seen: set[str] = set()
    current = person_id
    for _ in range(MAX_RESOLVE_HOPS):
        if count(con, "SELECT count(*) FROM identity_persons WHERE person_id = $p", {"p": current}):
            return current
        if current in seen:
            return None
        seen.add(current)
        row = con.execute(
            """
            SELECT m.new_person_id
            FROM person_merges AS m
            LEFT JOIN identity_persons AS p ON p.person_id = m.new_person_id
            WHERE m.old_person_id = $p
              AND m.recorded_at = (SELECT max(recorded_at) FROM person_merges
                                   WHERE old_person_id = $p)
            ORDER BY m.new_person_id IS NULL, p.first_seen_at IS NULL, p.first_seen_at,
                     m.new_person_id
            LIMIT 1
            """,
            {"p": current},
        ).fetchone()
        if row is None or row[0] is None:
            return None
        current = str(row[0])
    return None
