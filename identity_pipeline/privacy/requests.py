"""Requested values -> identifiers as the graph stores them, before any warehouse is opened.

Emails and phones go through `normalize.values.normalize_table`, the code path of the contacts
`dii` and of identity_events, and are kept only as the UID2 hash; anonymous IDs are trimmed.
A value that cannot be used gets a reason code, never an echo of itself. Placeholders that
the stitching rules block (test@test.com, 0000000000, anonymous, null, -1, ...) are refused:
forgetting one would drop every event that carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import duckdb

from identity_pipeline.identity_graph.rules import DEFAULT_BLOCKED_PATTERNS
from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.privacy.forget import SQL_PACKAGE
from identity_pipeline.warehouse import run_script

REQUEST_FIELDS: Final = ("email", "phone", "anonymous_id")
"""What a request may name (options of `forget`, columns of request files)."""

BLOCKED_VALUE: Final = "blocked_value"
VALUE_MISSING: Final = "value_missing"


@dataclass(frozen=True)
class StagedValue:
    """One requested value: its identifier (None when unusable) or why it cannot be used."""

    request_no: int
    field: str
    ordinal: int
    """1-based position among the request's values of this field."""
    id_type: str
    id_value: str | None
    error: str | None


def create_request_values(con: duckdb.DuckDBPyConnection) -> None:
    """Empty temp table fg_request_values(request_no, field, ordinal, value, region)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_request_values "
        "(request_no BIGINT, field VARCHAR, ordinal BIGINT, value VARCHAR, region VARCHAR)"
    )


def stage_request_values(con: duckdb.DuckDBPyConnection, default_region: str) -> None:
    """fg_request_values -> temp table fg_requested_all(request_no, field, id_type, id_value,
    plain, error). `plain` is for matching placeholders only; callers drop the table."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_dii_values AS "
        "SELECT request_no, field, ordinal, field AS dii_type, value, region "
        "FROM fg_request_values "
        "WHERE field IN ('email', 'phone')"
    )
    normalize_table(con, "fg_dii_values", "fg_dii_normalized", default_region)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fg_blocked_patterns (id_type VARCHAR, pattern VARCHAR)"
    )
    con.executemany(
        "INSERT INTO fg_blocked_patterns VALUES (?, ?)", [list(p) for p in DEFAULT_BLOCKED_PATTERNS]
    )
    run_script(con, SQL_PACKAGE, "create_forget_requested.sql")
    con.execute(
        "DROP TABLE fg_dii_values; DROP TABLE fg_dii_normalized; DROP TABLE fg_blocked_patterns"
    )


def staged_values(con: duckdb.DuckDBPyConnection) -> list[StagedValue]:
    """The rows of fg_requested_all, without `plain`."""
    return [
        StagedValue(int(n), str(f), int(o), str(t), None if e else v, e)
        for n, f, o, t, v, e in con.execute(
            "SELECT request_no, field, ordinal, id_type, id_value, error FROM fg_requested_all "
            "ORDER BY request_no, field, ordinal"
        ).fetchall()
    ]


def normalize_requests(
    values: list[tuple[int, str, int, str]], default_region: str
) -> list[StagedValue]:
    """(request_no, field, ordinal, raw value) -> StagedValue, in a private in-memory DuckDB: no
    warehouse is opened, so no lock is held while phones are parsed."""
    with duckdb.connect() as con:
        create_request_values(con)
        con.executemany(
            "INSERT INTO fg_request_values VALUES (?, ?, ?, ?, NULL)", [list(v) for v in values]
        )
        stage_request_values(con, default_region)
        return staged_values(con)
