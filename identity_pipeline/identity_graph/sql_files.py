"""This package's SQL files through the warehouse's one loader (`$name` parameters)."""

from __future__ import annotations

import duckdb

from identity_pipeline.warehouse import Params, execute, run_script, select_sql

SQL_PACKAGE = "identity_pipeline.identity_graph"


def sql(name: str) -> str:
    return select_sql(SQL_PACKAGE, name)


def run(con: duckdb.DuckDBPyConnection, name: str, params: Params | None = None) -> None:
    """Run a statement file, binding the `$name` parameters each statement uses."""
    run_script(con, SQL_PACKAGE, name, params)


def materialize(
    con: duckdb.DuckDBPyConnection, table: str, name: str, params: Params | None = None
) -> None:
    """Temp table `table` = the SELECT in sql/`name`. `table` is our own constant.

    The SELECT files are engine-neutral; materializing them is what another engine (Spark:
    a cached DataFrame registered as a temp view) does its own way.
    """
    execute(con, f"CREATE OR REPLACE TEMP TABLE {table} AS {sql(name)}", params)


def count(con: duckdb.DuckDBPyConnection, query: str, params: Params | None = None) -> int:
    row = execute(con, query, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
