"""Loading and running this package's SQL files (sql/*.sql, `$name` parameters)."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from identity_pipeline.warehouse import execute_script, read_sql

SQL_PACKAGE = "identity_pipeline.identity_graph"


def sql(name: str) -> str:
    return read_sql(SQL_PACKAGE, name).strip().rstrip(";")


def run(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object] | None = None
) -> None:
    """Run one statement file, binding the `$name` parameters it uses."""
    execute_script(con, read_sql(SQL_PACKAGE, name), dict(params or {}))


def materialize(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    params: Mapping[str, object] | None = None,
) -> None:
    """Temp table `table` = the SELECT in sql/`name`. `table` is our own constant.

    The SELECT files are engine-neutral; materializing them is what another engine (Spark:
    a cached DataFrame registered as a temp view) does its own way.
    """
    body = sql(name)
    used = {k: v for k, v in (params or {}).items() if f"${k}" in body}
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {body}", used)


def count(
    con: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, object] | None = None
) -> int:
    row = con.execute(query, dict(params)).fetchone() if params else con.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
