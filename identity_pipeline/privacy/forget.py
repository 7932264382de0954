"""Forget persons: find them from requested identifiers, delete every row that carries them,
deny-list their identifiers and write one audit row per request, in the caller's transaction.

Set-based: one pass serves any number of requests (a whole request file), and every temp
table carries the request's number so the audit keeps counts per request. Nothing here sees
a raw value: requests arrive as the graph stores identifiers (email and phone as the UID2
hash, see requests.py).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from identity_pipeline.events.denylist import (
    FORGETTABLE_TYPES,
    IDENTIFIER_HASH_SQL,
    PLAIN_ID_TYPES,
)
from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.warehouse import fingerprint_salt, run_script

SQL_PACKAGE = "identity_pipeline.privacy"

FORGET_TABLES = (
    "raw_events",
    "identity_events",
    "event_rejects",
    "person_journal",
    "identity_graph",
    "identity_identifiers",
    "identity_links",
    "identity_hubs",
    "identity_persons",
    "persons",
    "person_merges",
)
"""Tables forget always reads (the contract's). Any other table with a person_id column (the
scores customer_metrics, customer_value, customer_segments, ...) is found and read too."""

ROWS_TO_FORGET: tuple[tuple[str, str, str], ...] = (
    ("raw_events", "fg_event", "f.event_id = t.event_id"),
    ("identity_events", "fg_event", "f.event_id = t.event_id"),
    ("event_rejects", "fg_event", "f.event_id = t.event_id"),
    ("person_journal", "fg_event", "f.event_id = t.event_id"),
    ("identity_graph", "fg_identifier", "f.id_type = t.id_type AND f.id_value = t.id_value"),
    ("identity_identifiers", "fg_identifier", "f.id_key = t.id_key"),
    ("identity_links", "fg_identifier", "f.id_key IN (t.key_a, t.key_b)"),
    ("identity_hubs", "fg_identifier", "f.id_key = t.id_key"),
    ("person_merges", "fg_person", "f.person_id IN (t.old_person_id, t.new_person_id)"),
)
"""The rows forget deletes, as (table t, scope f of create_forget_scope.sql, join condition):
rows reached through the forgotten events, identifiers and persons. Tables keyed by person_id
are added by person_tables()."""

DROPPED_IDENTIFIER_ROWS: tuple[tuple[str, str, str], ...] = (
    ("identity_identifiers", "fg_dropped_identifier", "f.id_key = t.id_key"),
    ("identity_hubs", "fg_dropped_identifier", "f.id_key = t.id_key"),
    ("identity_links", "fg_dropped_identifier", "f.id_key IN (t.key_a, t.key_b)"),
)
"""Rows of the identifiers create_forget_stale.sql drops (no event left, no person)."""

_TEMP_TABLES = (
    "fg_requested",
    "fg_request_ids",
    "fg_person",
    "fg_identifier",
    "fg_event",
    "fg_row",
    "fg_forgotten",
    "fg_orphan_values",
    "fg_orphan_normalized",
    "fg_orphan_hashes",
    "fg_stale_identifier",
    "fg_stale_link",
    "fg_kept_event",
    "fg_identifier_first",
    "fg_link_first",
    "fg_dropped_identifier",
)


@dataclass(frozen=True)
class RequestedIdentifier:
    """One identifier of a request as the graph stores it: never a raw email or phone."""

    request_no: int
    id_type: str
    id_value: str


@dataclass(frozen=True)
class RequestSource:
    """Where a request came from, for its audit row."""

    source: str  # 'cli' | 'file'
    source_file: str | None = None
    row_number: int | None = None


@dataclass(frozen=True)
class ForgetOutcome:
    request_no: int
    request_id: str
    id_types: tuple[str, ...]
    persons_found: int
    identifiers_forgotten: int
    rows_deleted: dict[str, int] = field(default_factory=dict)
    crm_rows_kept: dict[str, int] = field(default_factory=dict)
    """CRM rows (dii, customer_dii) that still carry the person's emails and phones: forget
    does not touch the CRM side (README "Forgetting a person")."""


def person_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table of the warehouse with a person_id column."""
    rows = con.execute(
        """
        SELECT DISTINCT c.table_name
        FROM information_schema.columns AS c
        JOIN information_schema.tables AS t
            ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema
           AND t.table_name = c.table_name
        WHERE c.column_name = 'person_id' AND t.table_type = 'BASE TABLE'
          AND c.table_schema = 'main' AND c.table_catalog = current_database()
        ORDER BY 1
        """
    ).fetchall()
    return [str(r[0]) for r in rows]


def forget(
    con: duckdb.DuckDBPyConnection,
    requested: list[RequestedIdentifier],
    sources: dict[int, RequestSource],
    *,
    now: datetime,
    default_region: str,
) -> list[ForgetOutcome]:
    """Forget the persons of every request in `sources` (keyed by request number; a request
    whose identifiers are all unknown still deny-lists them). Call inside a transaction."""
    _stage(con, requested, sources)
    _stage_orphan_events(con, default_region)
    run_script(con, SQL_PACKAGE, "create_forget_scope.sql")
    keyed_by_person = person_tables(con)
    tables = sorted(set(FORGET_TABLES) | set(keyed_by_person))
    _add_rows(con, ROWS_TO_FORGET)
    _add_rows(con, [(t, "fg_person", "f.person_id = t.person_id") for t in keyed_by_person])
    run_script(con, SQL_PACKAGE, "create_forget_stale.sql")
    _add_rows(con, DROPPED_IDENTIFIER_ROWS)
    per_request: dict[int, dict[str, int]] = {n: dict.fromkeys(tables, 0) for n in sources}
    for request_no, table, rows in con.execute(
        "SELECT request_no, table_name, count(DISTINCT row_id) FROM fg_row GROUP BY ALL"
    ).fetchall():
        per_request[int(request_no)][str(table)] = int(rows)
    persons = dict.fromkeys(sources, 0)
    for request_no, live in con.execute(
        "SELECT request_no, count(*) FROM fg_person WHERE live GROUP BY ALL"
    ).fetchall():
        persons[int(request_no)] = int(live)
    for (target,) in con.execute("SELECT DISTINCT table_name FROM fg_row ORDER BY 1").fetchall():
        con.execute(
            f"DELETE FROM {target} WHERE rowid IN "
            "(SELECT row_id FROM fg_row WHERE table_name = $t)",
            {"t": target},
        )
    run_script(con, SQL_PACKAGE, "merge_into_forget_stale.sql")
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fg_identifier_hash(v) AS "
        + IDENTIFIER_HASH_SQL.format(value="v")
    )
    run_script(
        con,
        SQL_PACKAGE,
        "insert_forgotten_identifiers.sql",
        {"now": now, "types": list(FORGETTABLE_TYPES), "plain_types": list(PLAIN_ID_TYPES)},
    )
    forgotten = dict.fromkeys(sources, 0)
    for request_no, added in con.execute(
        "SELECT request_no, count(*) FROM fg_forgotten GROUP BY ALL"
    ).fetchall():
        forgotten[int(request_no)] = int(added)
    crm = {n: {"dii": 0, "customer_dii": 0} for n in sources}
    for request_no, dii_rows, links in con.execute(
        """
        SELECT i.request_no, count(DISTINCT d.dii_id), count(c.dii_id)
        FROM fg_identifier AS i
        JOIN dii AS d ON d.dii_type = i.id_type AND d.uid2_hash = i.id_value
        LEFT JOIN customer_dii AS c ON c.dii_id = d.dii_id
        GROUP BY ALL
        """
    ).fetchall():
        crm[int(request_no)] = {"dii": int(dii_rows), "customer_dii": int(links)}
    outcomes = _audit(con, sources, per_request, persons, forgotten, crm, now)
    for table in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP VIEW IF EXISTS fg_event_ids")
    return outcomes


def _add_rows(
    con: duckdb.DuckDBPyConnection,
    rows: tuple[tuple[str, str, str], ...] | list[tuple[str, str, str]],
) -> None:
    """Add to fg_row the rowid of every row of `table` that joins `scope` on `on`."""
    for table, scope, on in rows:
        con.execute(
            f"INSERT INTO fg_row SELECT '{table}', f.request_no, t.rowid FROM {table} AS t "
            f"JOIN {scope} AS f ON {on}"
        )


def _stage(
    con: duckdb.DuckDBPyConnection,
    requested: list[RequestedIdentifier],
    sources: dict[int, RequestSource],
) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_requested "
        "(request_no BIGINT, id_type VARCHAR, id_value VARCHAR)"
    )
    if requested:
        con.executemany(
            "INSERT INTO fg_requested VALUES (?, ?, ?)",
            [[r.request_no, r.id_type, r.id_value] for r in requested],
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_request_ids (request_no BIGINT, request_id VARCHAR)"
    )
    con.executemany(
        "INSERT INTO fg_request_ids VALUES (?, ?)", [[n, str(uuid.uuid4())] for n in sources]
    )


def _stage_orphan_events(con: duckdb.DuckDBPyConnection, default_region: str) -> None:
    """fg_orphan_hashes(event_id, dii_type, uid2_hash): raw events not in identity_events."""
    run_script(con, SQL_PACKAGE, "create_forget_orphan_values.sql")
    normalize_table(con, "fg_orphan_values", "fg_orphan_normalized", default_region)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_orphan_hashes AS "
        "SELECT event_id, dii_type, uid2_hash FROM fg_orphan_normalized WHERE error IS NULL"
    )


def _audit(
    con: duckdb.DuckDBPyConnection,
    sources: dict[int, RequestSource],
    per_request: dict[int, dict[str, int]],
    persons: dict[int, int],
    forgotten: dict[int, int],
    crm: dict[int, dict[str, int]],
    now: datetime,
) -> list[ForgetOutcome]:
    salt = fingerprint_salt(con)
    fingerprints: dict[int, list[str]] = {n: [] for n in sources}
    types: dict[int, list[str]] = {n: [] for n in sources}
    for request_no, id_types, prints in con.execute(
        """
        SELECT request_no, list(DISTINCT id_type ORDER BY id_type),
            list(sha256($salt || id_type || ':' || id_value) ORDER BY id_type, id_value)
        FROM fg_requested GROUP BY ALL
        """,
        {"salt": salt},
    ).fetchall():
        fingerprints[int(request_no)] = list(prints)
        types[int(request_no)] = list(id_types)
    request_ids = dict(con.execute("SELECT request_no, request_id FROM fg_request_ids").fetchall())
    outcomes = []
    for request_no, source in sources.items():
        outcome = ForgetOutcome(
            request_no=request_no,
            request_id=str(request_ids[request_no]),
            id_types=tuple(types[request_no]),
            persons_found=persons[request_no],
            identifiers_forgotten=forgotten[request_no],
            rows_deleted=per_request[request_no],
            crm_rows_kept=crm[request_no],
        )
        con.execute(
            "INSERT INTO forget_requests VALUES ($request_id, $now, $source, $source_file, "
            "$row_number, $id_types, $fingerprints, $persons, $forgotten, $rows_deleted, $crm)",
            {
                "request_id": outcome.request_id,
                "now": now,
                "source": source.source,
                "source_file": source.source_file,
                "row_number": source.row_number,
                "id_types": list(outcome.id_types),
                "fingerprints": fingerprints[request_no],
                "persons": outcome.persons_found,
                "forgotten": outcome.identifiers_forgotten,
                "rows_deleted": json.dumps(outcome.rows_deleted, sort_keys=True),
                "crm": json.dumps(outcome.crm_rows_kept, sort_keys=True),
            },
        )
        outcomes.append(outcome)
    return outcomes
