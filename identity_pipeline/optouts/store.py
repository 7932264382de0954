"""The only code that writes the optouts table and the only code that purges IDs.

Opt-outs come from two places (UID2 answers, suppression files) and land here; who counts as
opted out is the `opted_out` view (sql/create_views.sql), which every reader joins.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from identity_pipeline.warehouse import run_script

SQL_PACKAGE = "identity_pipeline.optouts"
UID2_API = "uid2_api"
SUPPRESSION_FILE = "suppression_file"


def record_optouts(
    con: duckdb.DuckDBPyConnection,
    identities: pa.Table,
    *,
    source: str,
    now: datetime,
    source_file: str | None = None,
) -> None:
    """Add `identities` (columns uid2_hash, dii_type) to the permanent list. Runs inside the
    caller's transaction; a hash already listed stays as it was."""
    con.register("new_optouts", identities)
    try:
        params = {"source": source, "source_file": source_file, "now": now}
        run_script(con, SQL_PACKAGE, "insert_optouts.sql", params)
    finally:
        con.unregister("new_optouts")


def listed_hashes(con: duckdb.DuckDBPyConnection, source: str | None = None) -> pa.Table:
    """The uid2_hash of every listed opt-out (of one source), as an Arrow table."""
    if source is None:
        return con.sql("SELECT uid2_hash FROM optouts").to_arrow_table()
    return con.sql(
        "SELECT uid2_hash FROM optouts WHERE source = $source", params={"source": source}
    ).to_arrow_table()


def purge(con: duckdb.DuckDBPyConnection, identities: pa.Table) -> None:
    """Clear every ID held for `identities` (a uid2_hash column) in every mapping table.

    Idempotent; run it in the transaction that records the opt-outs, or right after."""
    con.register("purge_targets", identities.select(["uid2_hash"]))
    try:
        run_script(con, SQL_PACKAGE, "delete_opted_out_ids.sql")
    finally:
        con.unregister("purge_targets")
