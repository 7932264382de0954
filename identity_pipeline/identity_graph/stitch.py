"""One stitching run: events -> identifiers, links, hubs -> persons, in one transaction.

Incremental by default: only persons that this run's identifiers (or new hubs) reach are
re-stitched; the rest of the graph is not read beyond the lookups that find them. With
`full_rebuild=True`, `events` must hold every event: identifiers and links are rebuilt from it
and every person re-stitched; unchanged persons keep their UUIDs by construction.

Identifiers already in graph form (CRM `customer_id` links through `customer_dii`, emails and
phones as their UID2 hash) come in through `hashed` and are stitched like an event's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from identity_pipeline.identity_graph.components import Method
from identity_pipeline.identity_graph.identifiers import (
    install_rules,
    merge_identifiers,
    stage_event_identifiers,
)
from identity_pipeline.identity_graph.persons import stage_persons, write_persons
from identity_pipeline.identity_graph.rules import StitchingRules
from identity_pipeline.identity_graph.sql_files import count, run
from identity_pipeline.settings import DEFAULT_REGION
from identity_pipeline.warehouse import transaction

if TYPE_CHECKING:
    from identity_pipeline.engine.spark import SparkEngine

_TEMP_TABLES = (
    "ig_event_identifiers",
    "ig_run_identifiers",
    "ig_run_links",
    "ig_hub_candidates",
    "ig_new_hubs",
    "ig_old_persons",
    "ig_old_graph",
    "ig_affected",
    "ig_affected_links",
    "ig_components",
    "ig_new_graph",
    "ig_new_persons",
    "ig_person_changes",
    "ig_graph_removed",
    "ig_graph_added",
    "ig_persons_added",
    "ig_blocked_patterns",
    "ig_max_links",
    "ig_type_rank",
)


@dataclass(frozen=True)
class StitchReport:
    events: int
    identifiers: int
    new_identifiers: int
    links: int
    new_hubs: int
    restitched_identifiers: int
    component_rounds: int
    persons: int
    changes_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create_tables.sql")


def stitch_events(
    con: duckdb.DuckDBPyConnection,
    events: str,
    *,
    hashed: str | None = None,
    rules: StitchingRules | None = None,
    full_rebuild: bool = False,
    method: Method = "scipy",
    spark: SparkEngine | None = None,
    default_region: str = DEFAULT_REGION,
    now: datetime | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> StitchReport:
    """Stitch the events in table or view `events` (our own name; columns
    identifiers.EVENT_COLUMNS) and the identifiers in `hashed` (identifiers.HASHED_COLUMNS),
    if any, into the identity graph.

    `before_commit(con)` runs inside the run's transaction after everything is written, while
    temp tables ig_old_persons and ig_new_persons (every person this run re-stitched, before
    and after) still exist, so a caller can record its own progress atomically with the graph.

    `method` solves the connected components (components.py); "spark" runs them on the
    `spark` engine while the transaction and everything else stays on DuckDB.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    create_tables(con)
    rules = rules or StitchingRules()
    install_rules(con, rules)
    stage_event_identifiers(con, events, default_region, rules, hashed)
    before = count(con, "SELECT count(*) FROM identity_identifiers")
    with transaction(con):
        if full_rebuild:
            con.execute("DELETE FROM identity_identifiers; DELETE FROM identity_links")
            before = 0
        merge_identifiers(con, now)
        if full_rebuild:
            con.execute(
                "DELETE FROM identity_hubs WHERE id_key NOT IN "
                "(SELECT id_key FROM ig_hub_candidates)"
            )
        restitched, rounds = stage_persons(con, full=full_rebuild, method=method, spark=spark)
        write_persons(con, now=now)
        if before_commit is not None:
            before_commit(con)
    changes = dict(
        con.execute("SELECT reason, count(*) FROM ig_person_changes GROUP BY reason").fetchall()
    )
    report = StitchReport(
        events=count(con, "SELECT count(*) FROM ig_events"),
        identifiers=count(con, "SELECT count(*) FROM ig_run_identifiers"),
        new_identifiers=count(con, "SELECT count(*) FROM identity_identifiers") - before,
        links=count(con, "SELECT count(*) FROM ig_run_links"),
        new_hubs=count(con, "SELECT count(*) FROM ig_new_hubs"),
        restitched_identifiers=restitched,
        component_rounds=rounds,
        persons=count(con, "SELECT count(*) FROM identity_persons"),
        changes_by_reason={str(k): int(v) for k, v in changes.items()},
        seconds=time.perf_counter() - started,
    )
    for table in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP VIEW IF EXISTS ig_events; DROP VIEW IF EXISTS ig_hashed_identifiers")
    return report
