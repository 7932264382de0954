"""Send what is due to ID5 and store each answered batch, with its history rows, atomically.

The batch loop is `mapping.batches`; what is ID5's own is here: the due list, how a batch
becomes a users array, and the SQL that stores the answer and the ID history. One request is
in flight at a time (ID5 gives no parallelism guidance; the `id5_api` pool allows one step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from identity_pipeline.id5.client import ID5Client
from identity_pipeline.mapping.batches import (
    BatchReport,
    Log,
    PendingBatches,
    map_batches,
    store_answer,
)
from identity_pipeline.mapping.due import rebuild_due_list
from identity_pipeline.normalize.values import install_macros
from identity_pipeline.warehouse import Params, naive_utc

SQL = "identity_pipeline.id5"


@dataclass
class MappingReport(BatchReport):
    """ID5's outcomes beside the shared counts; no identifiers."""

    errors: int = 0
    rotated: int = 0  # answers whose ID5 ID differs from the one we held


def refresh_due_list(
    con: duckdb.DuckDBPyConnection,
    client: ID5Client,
    now: datetime,
    *,
    only_new: bool = False,
) -> dict[str, int]:
    """Rebuild id5_due_for_refresh; returns the count per reason."""
    install_macros(con)  # ip_country_code: contacts and ID5 read a country the same way
    return rebuild_due_list(
        con,
        SQL,
        "id5_due_for_refresh",
        {
            "now": naive_utc(now),
            "refresh_days": client.refresh_interval_days,
            "only_new": only_new,
        },
    )


def map_due_identities(
    con: duckdb.DuckDBPyConnection, client: ID5Client, now: datetime, log: Log
) -> MappingReport:
    """Map every pending due email; each answered batch commits before the run moves on."""
    report = MappingReport()

    def count_rotated() -> int:
        row = con.execute(
            "SELECT count(*) FROM id5_answer AS a JOIN id5_mapping AS m USING (dii_id) "
            "WHERE a.uid IS NOT NULL AND m.id5_uid IS NOT NULL AND m.id5_uid <> a.uid"
        ).fetchall()
        return int(row[0][0])

    def store(rows: pa.Table, answer: pa.Table, params: Params) -> None:
        sent = rows.select(["dii_id", "id5_hash", "source_seen_at"])
        for name in ("uid", "country_alpha2", "error_code"):
            sent = sent.append_column(name, answer.column(name))
        report.rotated += store_answer(
            con, "id5_answer", sent, SQL, "merge_into_id5_mapping.sql", params, before=count_rotated
        )
        report.errors += answer.column("uid").null_count
        report.mapped += rows.num_rows - answer.column("uid").null_count

    columns = "dii_id, id5_hash, known_uid, country_alpha2, last_seen_at AS source_seen_at"
    map_batches(
        con,
        report,
        PendingBatches("id5_pending", columns, "pos"),
        (SQL, "create_id5_pending.sql", {"size": client.effective_batch_size}),
        service="ID5",
        unit="users",
        parallel=1,
        call=client.map_batch,
        store=store,
        now=now,
        log=log,
    )
    return report
