"""Send what is due to the UID2 operator and store each answered batch atomically.

The batch loop is `mapping.batches`; what is UID2's own is here: the due list (with the v2
salt-bucket check), how a batch becomes a v3 or v2 request, and the SQL that stores the answer.
Opt-outs in an answer are recorded through `optouts.store` in the batch's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from identity_pipeline.mapping.batches import (
    BatchReport,
    Log,
    PendingBatches,
    map_batches,
    store_answer,
)
from identity_pipeline.mapping.due import rebuild_due_list
from identity_pipeline.mapping.retry import CallStats
from identity_pipeline.optouts.store import UID2_API, listed_hashes, purge, record_optouts
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline.warehouse import Params, naive_utc, transaction

SQL = "identity_pipeline.uid2"


@dataclass
class MappingReport(BatchReport):
    """UID2's outcomes beside the shared counts; no identifiers."""

    opted_out: int = 0
    invalid: int = 0


def refresh_due_list(
    con: duckdb.DuckDBPyConnection,
    client: UID2Client,
    now: datetime,
    log: Log,
    *,
    only_new: bool = False,
) -> dict[str, int]:
    """Rebuild uid2_due_for_refresh; in v2 first ask which salt buckets rotated."""
    version = client.version
    stats = CallStats()
    if version == "v2" and not only_new:
        _record_rotated_buckets(con, client, naive_utc(now), stats, log)
    return rebuild_due_list(
        con,
        SQL,
        "uid2_due_for_refresh",
        {"now": naive_utc(now), "version": version, "only_new": only_new},
    )


def _record_rotated_buckets(
    con: duckdb.DuckDBPyConnection, client: UID2Client, now: datetime, stats: CallStats, log: Log
) -> None:
    row = con.execute(
        """
        SELECT coalesce(
            (SELECT CAST(value AS TIMESTAMP) FROM warehouse_settings
             WHERE key = 'uid2_buckets_checked_at'),
            (SELECT min(mapped_at) FROM uid2_mapping WHERE bucket_id IS NOT NULL))
        """
    ).fetchall()
    since = row[0][0] if row else None
    if since is None:
        return  # nothing mapped through v2 yet: every identity is due anyway
    rotated = client.rotated_buckets(since, stats=stats)
    with transaction(con):
        if rotated:
            table = pa.table(
                {
                    "bucket_id": [b for b, _ in rotated],
                    "last_updated": [naive_utc(t) for _, t in rotated],
                }
            )
            con.register("uid2_rotated_arrow", table)
            con.execute(
                """
                INSERT INTO uid2_bucket_rotations
                SELECT bucket_id, last_updated, CAST(? AS TIMESTAMP) FROM uid2_rotated_arrow
                ON CONFLICT (bucket_id) DO UPDATE SET
                    last_updated = greatest(uid2_bucket_rotations.last_updated,
                                            excluded.last_updated),
                    checked_at = excluded.checked_at
                """,
                [now],
            )
            con.unregister("uid2_rotated_arrow")
        con.execute(
            "INSERT INTO warehouse_settings VALUES ('uid2_buckets_checked_at', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [now.isoformat(sep=" ")],
        )
    log(f"UID2 bucket check since {since:%Y-%m-%d %H:%M:%S}: {len(rotated)} bucket(s) rotated")


def map_due_identities(
    con: duckdb.DuckDBPyConnection, client: UID2Client, now: datetime, log: Log
) -> MappingReport:
    """Map every pending due identity; each answered batch commits before the run moves on."""
    report = MappingReport()
    stored_at = naive_utc(now)

    def store(rows: pa.Table, answer: pa.Table, params: Params) -> None:
        combined = rows
        for name in ("u", "p", "r", "e", "b"):
            combined = combined.append_column(name, answer.column(name))
        is_optout = pc.and_(
            pc.is_null(combined.column("u")), pc.equal(combined.column("e"), "optout")
        )
        opted_out = combined.filter(is_optout).select(["uid2_hash", "dii_type"])

        def record() -> None:
            # An opt-out joins the permanent list in the same transaction that clears it.
            if opted_out.num_rows:
                record_optouts(con, opted_out, source=UID2_API, now=stored_at)

        store_answer(
            con, "uid2_answer", combined, SQL, "merge_into_uid2_mapping.sql", params, after=record
        )
        mapped = rows.num_rows - answer.column("u").null_count
        report.mapped += mapped
        report.opted_out += opted_out.num_rows
        report.invalid += rows.num_rows - mapped - opted_out.num_rows

    def purge_other_ids() -> None:
        # UID2 rows were cleared batch by batch; IDs other services gave them go now.
        if report.opted_out:
            with transaction(con):
                purge(con, listed_hashes(con, source=UID2_API))

    # v2 sends one identity type per request; emails, then phones is the answer's order.
    pending = PendingBatches(
        "uid2_pending",
        "dii_id, uid2_hash, dii_type, last_seen_at AS source_seen_at",
        "dii_type, pos",
    )
    sizes = {"size": client.effective_batch_size, "one_type": client.version == "v2"}
    map_batches(
        con,
        report,
        pending,
        (SQL, "create_uid2_pending.sql", sizes),
        service="UID2",
        unit="identities",
        parallel=client.parallel_requests,  # 1, the default: one request at a time
        call=client.map_batch,
        store=store,
        now=now,
        log=log,
        finish=purge_other_ids,
    )
    return report
