"""The hash the deny-list holds for anonymous and click IDs (placeholder until the events
package exposes its own; see forgotten_identifiers in events/sql/create_tables.sql)."""

from __future__ import annotations

import duckdb


def install_identifier_hash(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(v) AS to_base64(unhex(sha256(trim(v))))")
