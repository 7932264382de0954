"""Typed identifiers of events, their links and their hubs.

Emails and phones go through `normalize.values.normalize_table`, the code path of the
contacts `dii`, and are kept only as its UID2 hash. Every identifier is numbered by a hash of
(type, value). Each event links its identifiers pairwise (`identity_links`); an identifier
that matches a blocked pattern or links more than its type's limit of another type is a hub
(`identity_hubs`) and takes no part in stitching.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from identity_pipeline.identity_graph.rules import ANY_TYPE, ID_TYPES, StitchingRules
from identity_pipeline.identity_graph.sql_files import count, materialize, run
from identity_pipeline.landing.readers import EVENT_FIELDS
from identity_pipeline.normalize.values import normalize_table

EVENT_COLUMNS = tuple(f for f in EVENT_FIELDS if f not in ("platform", "valuation_properties"))
"""Columns a source of events must have: a landed event's identifier fields (created_at a
TIMESTAMP, the rest VARCHAR)."""

HASHED_COLUMNS = ("event_id", "created_at", "id_type", "id_value")
"""Columns a source of identifiers already in graph form must have: one row per (event,
identifier), id_type one of rules.ID_TYPES, emails and phones as the UID2 hash `dii` stores
(so nothing is normalized or hashed again). CRM `customer_id` links come in this way."""


class IdentifierCollisionError(RuntimeError):
    """Two different identifiers hashed to the same id_key (about 1 in 10^5 at 10M ids)."""


def install_rules(con: duckdb.DuckDBPyConnection, rules: StitchingRules) -> None:
    """Temp tables ig_blocked_patterns and ig_max_links from the rules (values bound)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ig_blocked_patterns (id_type VARCHAR, pattern VARCHAR)"
    )
    for id_type, pattern in rules.blocked_patterns:
        con.execute(
            "INSERT INTO ig_blocked_patterns VALUES ($id_type, $pattern)",
            {"id_type": id_type, "pattern": pattern},
        )
    con.execute("CREATE OR REPLACE TEMP TABLE ig_max_links (id_type VARCHAR, max_links BIGINT)")
    for id_type, limit in rules.limit_rows():
        con.execute(
            "INSERT INTO ig_max_links VALUES ($id_type, $max_links)",
            {"id_type": id_type, "max_links": limit},
        )


def stage_event_identifiers(
    con: duckdb.DuckDBPyConnection,
    events: str,
    default_region: str,
    rules: StitchingRules,
    hashed: str | None = None,
) -> None:
    """Temp tables ig_event_identifiers, ig_run_identifiers and ig_run_links for `events`
    and, when given, `hashed`.

    `events` is our own table or view name with EVENT_COLUMNS; `hashed` one with
    HASHED_COLUMNS. Nothing persistent changes.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW ig_events AS SELECT {', '.join(EVENT_COLUMNS)} FROM {events}"
    )
    if hashed is None:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW ig_hashed_identifiers AS SELECT "
            "CAST(NULL AS VARCHAR) AS event_id, CAST(NULL AS TIMESTAMP) AS created_at, "
            "CAST(NULL AS VARCHAR) AS id_type, CAST(NULL AS VARCHAR) AS id_value WHERE false"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW ig_hashed_identifiers AS "
            f"SELECT {', '.join(HASHED_COLUMNS)} FROM {hashed}"
        )
        _check_hashed_types(con)
    materialize(con, "ig_dii_values", "select_event_dii_values.sql")
    normalize_table(con, "ig_dii_values", "ig_dii_normalized", default_region)
    materialize(con, "ig_event_identifiers", "select_event_identifiers.sql")
    con.execute("DROP TABLE ig_dii_values; DROP TABLE ig_dii_normalized")
    materialize(con, "ig_run_identifiers", "select_run_identifiers.sql", type_patterns(rules))
    materialize(con, "ig_blocked_matches", "select_blocked_patterns_matched.sql")
    con.execute(
        """
        UPDATE ig_run_identifiers SET blocked_pattern = m.blocked_pattern
        FROM ig_blocked_matches AS m WHERE m.id_key = ig_run_identifiers.id_key;
        DROP TABLE ig_blocked_matches
        """
    )
    materialize(con, "ig_run_links", "select_run_links.sql")
    _check_collisions(con)


def _check_hashed_types(con: duckdb.DuckDBPyConnection) -> None:
    unknown = [
        str(row[0])
        for row in con.execute(
            "SELECT DISTINCT id_type FROM ig_hashed_identifiers "
            "WHERE id_type IS NULL OR list_position($types, id_type) IS NULL ORDER BY 1",
            {"types": list(ID_TYPES)},
        ).fetchall()
    ]
    if unknown:
        raise ValueError(
            f"pre-hashed identifiers of unknown type(s) {unknown}; expected one of {ID_TYPES}"
        )


def type_patterns(rules: StitchingRules) -> dict[str, object]:
    """$re_<type>: one alternation of the type's patterns and the '*' ones (None: no pattern).
    Each pattern sits in its own group, so inline flags like (?i) stay within it."""
    params: dict[str, object] = {}
    for id_type in ID_TYPES:
        patterns = [p for t, p in rules.blocked_patterns if t in (ANY_TYPE, id_type)]
        params[f"re_{id_type}"] = "|".join(f"(?:{p})" for p in patterns) if patterns else None
    return params


def _check_collisions(con: duckdb.DuckDBPyConnection) -> None:
    clashes = count(con, "SELECT count(*) FROM ig_run_identifiers WHERE spellings > 1") + count(
        con,
        """
        SELECT count(*) FROM ig_run_identifiers AS r JOIN identity_identifiers AS i
            ON i.id_key = r.id_key
        WHERE i.id_type <> r.id_type OR i.id_value <> r.id_value
        """,
    )
    if clashes:
        raise IdentifierCollisionError(
            f"{clashes} identifier(s) share an id_key with a different identifier; "
            "nothing was stored"
        )


def merge_identifiers(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Merge this run's identifiers, links and hubs into the persistent tables.

    Leaves temp table ig_new_hubs: identifiers that became hubs in this run.
    Call inside the caller's transaction.
    """
    run(con, "merge_into_identity_identifiers.sql")
    run(con, "merge_into_identity_links.sql")
    materialize(con, "ig_hub_candidates", "select_hub_candidates.sql")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ig_new_hubs AS
        SELECT c.id_key FROM ig_hub_candidates AS c
        WHERE NOT EXISTS (SELECT 1 FROM identity_hubs AS h WHERE h.id_key = c.id_key)
        """
    )
    run(con, "merge_into_identity_hubs.sql", {"now": now})
