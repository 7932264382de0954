"""The graph's refresh from the warehouse tables, and the person-level tables built on it.

`refresh_graph` stitches every raw event not stitched yet (raw_events.ingest_seq above the
'raw_events' position in identity_graph_state) and every CRM link (customer_dii row) not
stitched yet, in one transaction with its bookkeeping: the new positions, the links stitched
and the persons re-stitched (identity_person_changes, numbered by stitch run).

`refresh_persons` and `refresh_journal` rebuild the rows of `persons` and `person_journal` of
only the persons the stitch runs since their last refresh re-stitched (retired ones are
removed), or of everyone on a full refresh; both are set-based SQL over identity_events joined
to identity_graph (sql/select_person_events.sql, sql/select_person_rows.sql).

Raw emails and phones stay in raw_events: the stitcher reads them through a view and keeps
only their hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from identity_pipeline.identity_graph.rules import StitchingRules
from identity_pipeline.identity_graph.sql_files import count, materialize, run
from identity_pipeline.identity_graph.stitch import StitchReport, create_tables, stitch_events
from identity_pipeline.settings import DEFAULT_REGION
from identity_pipeline.warehouse import execute, transaction

if TYPE_CHECKING:
    from identity_pipeline.engine.spark import SparkEngine

RAW_EVENTS = "raw_events"
STITCH_RUN = "stitch_run"
PERSONS = "persons"
PERSON_JOURNAL = "person_journal"
CONSUMERS = (PERSONS, PERSON_JOURNAL)
"""State names of the tables that read identity_person_changes; it is pruned below the
smallest of their positions once each has one."""

_SOURCE_VIEW = "ig_source_events"
_CRM_TABLE = "ig_customer_link_identifiers"


@dataclass(frozen=True)
class GraphRefresh:
    stitch: StitchReport
    stitch_run: int
    crm_links: int
    """CRM links (customer_dii rows) stitched in this run."""
    raw_events_position: int
    new_hubs: list[tuple[str, str, str, str | None, int, int | None]]
    """(id_type, id_value, reason, linked_type, fan_out, max_links) of hubs first detected in
    this run; emails and phones as their hash."""


@dataclass(frozen=True)
class TableRefresh:
    full: bool
    persons_refreshed: int
    """Persons whose rows were rebuilt (retired ones included)."""
    rows_written: int
    rows_total: int
    stitch_run: int


def position(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    row = con.execute(
        "SELECT max(position) FROM identity_graph_state WHERE name = $name", {"name": name}
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def set_position(con: duckdb.DuckDBPyConnection, name: str, value: int, now: datetime) -> None:
    con.execute("DELETE FROM identity_graph_state WHERE name = $name", {"name": name})
    con.execute(
        "INSERT INTO identity_graph_state VALUES ($name, $value, $now)",
        {"name": name, "value": value, "now": now},
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def refresh_graph(
    con: duckdb.DuckDBPyConnection,
    *,
    rules: StitchingRules | None = None,
    full_rebuild: bool = False,
    default_region: str = DEFAULT_REGION,
    now: datetime | None = None,
    spark: SparkEngine | None = None,
) -> GraphRefresh:
    """Stitch what is new in raw_events and customer_dii (everything on a full rebuild).
    With a `spark` engine the connected components run on Spark (the same SQL files as the
    portable method); without one, scipy on DuckDB's rows."""
    now = now or _now()
    create_tables(con)
    stitched = position(con, RAW_EVENTS)
    after = -1 if full_rebuild or stitched is None else stitched
    upto = max(after, count(con, "SELECT coalesce(max(ingest_seq), -1) FROM raw_events"))
    stitch_run = (position(con, STITCH_RUN) or 0) + 1
    # Raw values stay in raw_events: the stitcher reads them through this view and hashes
    # them in its temp tables. gaclid is already folded into raw_events.gclid.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {_SOURCE_VIEW} AS
        SELECT event_id, created_at, anonymous_id, email, phone, fbclid, gclid,
            CAST(NULL AS VARCHAR) AS gaclid
        FROM raw_events
        WHERE ingest_seq > {int(after)} AND ingest_seq <= {int(upto)}
        """
    )
    materialize(con, _CRM_TABLE, "select_customer_link_identifiers.sql", {"full": full_rebuild})
    crm_links = count(con, f"SELECT count(DISTINCT event_id) FROM {_CRM_TABLE}")

    def record_progress(con: duckdb.DuckDBPyConnection) -> None:
        params = {"stitch_run": stitch_run}
        if full_rebuild:
            con.execute("DELETE FROM identity_customer_links")
        run(con, "insert_identity_customer_links.sql", params)
        run(con, "insert_identity_person_changes.sql", params)
        set_position(con, RAW_EVENTS, upto, now)
        set_position(con, STITCH_RUN, stitch_run, now)

    try:
        report = stitch_events(
            con,
            _SOURCE_VIEW,
            hashed=_CRM_TABLE,
            rules=rules,
            full_rebuild=full_rebuild,
            method="scipy" if spark is None else "spark",
            spark=spark,
            default_region=default_region,
            now=now,
            before_commit=record_progress,
        )
    finally:
        con.execute(f"DROP VIEW IF EXISTS {_SOURCE_VIEW}; DROP TABLE IF EXISTS {_CRM_TABLE}")
    new_hubs = con.execute(
        """
        SELECT id_type, id_value, reason, linked_type, fan_out, max_links
        FROM identity_hubs WHERE first_detected_at = $now
        ORDER BY fan_out DESC, id_type, id_value
        """,
        {"now": now},
    ).fetchall()
    return GraphRefresh(
        stitch=report,
        stitch_run=stitch_run,
        crm_links=crm_links,
        raw_events_position=upto,
        new_hubs=[tuple(row) for row in new_hubs],
    )


def _stage_refresh(con: duckdb.DuckDBPyConnection, name: str, full: bool) -> tuple[bool, int]:
    """Temp table ig_refresh_persons: persons re-stitched since table `name` last caught up.
    Returns (full, the stitch run it catches up with); full when it never ran."""
    create_tables(con)
    latest = position(con, STITCH_RUN) or 0
    since = position(con, name)
    full = full or since is None
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ig_refresh_persons AS
        SELECT DISTINCT person_id FROM identity_person_changes
        WHERE stitch_run > $since AND stitch_run <= $latest
        """,
        {"since": -1 if full else since, "latest": latest},
    )
    return full, latest


def _prune_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Drop change records every consumer has caught up with."""
    positions = [position(con, name) for name in CONSUMERS]
    if all(p is not None for p in positions):
        con.execute(
            "DELETE FROM identity_person_changes WHERE stitch_run <= $upto",
            {"upto": min(p for p in positions if p is not None)},
        )


def _refresh_table(con: duckdb.DuckDBPyConnection, table: str, full: bool) -> TableRefresh:
    full, latest = _stage_refresh(con, table, full)
    now = _now()
    params = {"full": full, "now": now}
    try:
        materialize(con, "ig_person_events", "select_person_events.sql", params)
        if table == PERSONS:
            materialize(con, "ig_person_rows", "select_person_rows.sql", params)
            rows = "SELECT *, CAST($now AS TIMESTAMP) AS updated_at FROM ig_person_rows"
        else:
            rows = "SELECT * FROM ig_person_events"
        with transaction(con):
            if full:
                con.execute(f"DELETE FROM {table}")
            else:
                con.execute(
                    f"DELETE FROM {table} WHERE person_id IN "
                    "(SELECT person_id FROM ig_refresh_persons)"
                )
            execute(con, f"INSERT INTO {table} BY NAME {rows}", params)
            set_position(con, table, latest, now)
            _prune_changes(con)
        written = count(con, f"SELECT count(*) FROM ({rows})", params)
        refreshed = count(
            con,
            "SELECT count(DISTINCT person_id) FROM identity_persons"
            if full
            else "SELECT count(*) FROM ig_refresh_persons",
        )
        total = count(con, f"SELECT count(*) FROM {table}")
    finally:
        con.execute(
            "DROP TABLE IF EXISTS ig_refresh_persons; DROP TABLE IF EXISTS ig_person_events; "
            "DROP TABLE IF EXISTS ig_person_rows"
        )
    return TableRefresh(full, refreshed, written, total, latest)


def refresh_persons(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> TableRefresh:
    """Rebuild `persons` rows of the persons re-stitched since its last refresh."""
    return _refresh_table(con, PERSONS, full)


def refresh_journal(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> TableRefresh:
    """Rebuild `person_journal` rows of the persons re-stitched since its last refresh."""
    return _refresh_table(con, PERSON_JOURNAL, full)
