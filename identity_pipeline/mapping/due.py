"""The due list every mapping service rebuilds before a run: its shared rule (never sent, or
refused and seen again; sql/create_due_macros.sql) and the count per reason."""

from __future__ import annotations

import duckdb

from identity_pipeline.warehouse import Params, run_script


def rebuild_due_list(
    con: duckdb.DuckDBPyConnection, package: str, table: str, params: Params
) -> dict[str, int]:
    """Run `package`'s sql/create_{table}.sql (which reads mapping_due_reason) with `params`;
    returns how many identities are due per reason."""
    run_script(con, "identity_pipeline.mapping", "create_due_macros.sql")
    run_script(con, package, f"create_{table}.sql", params)
    rows = con.execute(f"SELECT reason, count(*) FROM {table} GROUP BY 1").fetchall()
    return {str(reason): int(count) for reason, count in rows}
