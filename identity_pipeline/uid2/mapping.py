"""Send what is due to the UID2 operator and store each answered batch atomically.

The DuckDB connection stays open for the whole loop: reopening the file costs about 25 ms,
the whole per-batch budget. That is safe because every run that touches UID2 sits in the
`uid2_api` pool and the run queue admits one run at a time (dagster.yaml).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from identity_pipeline.mapping.retry import CallStats
from identity_pipeline.optouts.suppression import purge
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline.warehouse import execute_script, read_sql, transaction

Log = Callable[[str], None]


def naive_utc(moment: datetime) -> datetime:
    """DuckDB TIMESTAMP columns hold naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class MappingReport:
    """Counts for materialization metadata; no identifiers."""

    due: int = 0
    sent: int = 0
    mapped: int = 0
    opted_out: int = 0
    invalid: int = 0
    batches: int = 0
    rotated: int = 0
    calls: CallStats = field(default_factory=CallStats)
    wall_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def local_seconds(self) -> float:
        """Time not spent waiting on the API: reading, building requests, parsing, writing."""
        return max(self.wall_seconds - self.calls.api_seconds, 0.0)


@dataclass(frozen=True)
class _Batch:
    """One request's identifiers; `rows` holds them in answer order (emails, then phones)."""

    number: int
    rows: pa.Table  # dii_id, uid2_hash, dii_type, source_seen_at
    emails: list[str]
    phones: list[str]

    @property
    def size(self) -> int:
        return int(self.rows.num_rows)


Answered = tuple[_Batch, pa.Table, CallStats]


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
    execute_script(
        con,
        read_sql("identity_pipeline.uid2", "due_for_refresh.sql"),
        {"now": naive_utc(now), "version": version, "only_new": only_new},
    )
    reasons = dict(
        con.execute("SELECT reason, count(*) FROM uid2_due_for_refresh GROUP BY 1").fetchall()
    )
    return {str(k): int(v) for k, v in reasons.items()}


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


def _plan_batches(con: duckdb.DuckDBPyConnection, size: int, one_type: bool) -> tuple[int, int]:
    """Fill temp table uid2_pending; returns (identities, batches)."""
    execute_script(
        con,
        read_sql("identity_pipeline.uid2", "pending_batch_rows.sql"),
        {"size": size, "one_type": one_type},
    )
    row = con.execute("SELECT count(*), coalesce(max(batch_no), 0) FROM uid2_pending").fetchall()
    return int(row[0][0]), int(row[0][1])


def _read_batch(con: duckdb.DuckDBPyConnection, number: int) -> _Batch:
    rows = con.sql(
        "SELECT dii_id, uid2_hash, dii_type, last_seen_at AS source_seen_at FROM uid2_pending "
        "WHERE batch_no = $number ORDER BY dii_type, pos",
        params={"number": number},
    ).to_arrow_table()
    hashes = rows.column("uid2_hash").to_pylist()
    emails = pc.sum(pc.equal(rows.column("dii_type"), "email")).as_py() or 0
    return _Batch(number, rows, hashes[:emails], hashes[emails:])


def _call(client: UID2Client, version: str, batch: _Batch, total: int, log: Log) -> Answered:
    """The network edge: runs on worker threads when requests go out in parallel."""
    stats = CallStats()
    what = f"UID2 batch {batch.number}/{total} ({batch.size} identities)"

    def on_retry(reason: str, attempt: int, sleep: float) -> None:
        log(f"{what}: {reason}; retry {attempt} in {sleep:.1f}s")

    if version == "v3":
        answer = client.map_v3(
            batch.emails, batch.phones, stats=stats, what=what, on_retry=on_retry
        )
    elif batch.emails:
        answer = client.map_v2("email", batch.emails, stats=stats, what=what, on_retry=on_retry)
    else:
        answer = client.map_v2("phone", batch.phones, stats=stats, what=what, on_retry=on_retry)
    return batch, answer, stats


def _store(
    con: duckdb.DuckDBPyConnection, batch: _Batch, answer: pa.Table, requests: int, now: datetime
) -> tuple[int, int, int]:
    """Write one answered batch and its opt-outs in one transaction; (mapped, optout, invalid)."""
    if answer.num_rows != batch.size:
        raise RuntimeError(f"batch {batch.number}: {answer.num_rows} answers for {batch.size}")
    combined = batch.rows
    for name in ("u", "p", "r", "e", "b"):
        combined = combined.append_column(name, answer.column(name))
    mapped = batch.size - answer.column("u").null_count
    opted_out = pc.sum(pc.equal(answer.column("e"), "optout")).as_py() or 0
    con.register("uid2_answer", combined)
    try:
        with transaction(con):
            params = {"now": now, "requests": requests}
            execute_script(con, read_sql("identity_pipeline.uid2", "apply_batch.sql"), params)
            if opted_out:
                execute_script(
                    con, read_sql("identity_pipeline.uid2", "record_batch_optouts.sql"), params
                )
    finally:
        con.unregister("uid2_answer")
    return mapped, opted_out, batch.size - mapped - opted_out


def map_due_identities(
    con: duckdb.DuckDBPyConnection, client: UID2Client, now: datetime, log: Log
) -> MappingReport:
    """Map every pending due identity; each answered batch commits before the run moves on."""
    started = time.perf_counter()
    report = MappingReport()
    version = client.version
    stored_at = naive_utc(now)
    report.due, total = _plan_batches(con, client.effective_batch_size, version == "v2")
    # Checkpoint once when the connection closes, not in the middle of a batch's commit.
    con.execute("SET checkpoint_threshold = '1GB'")

    def absorb(batch: _Batch, answer: pa.Table, stats: CallStats) -> None:
        write_started = time.perf_counter()
        mapped, opted_out, invalid = _store(con, batch, answer, stats.requests, stored_at)
        report.write_seconds += time.perf_counter() - write_started
        report.calls.merge(stats)
        report.batches += 1
        report.sent += batch.size
        report.mapped += mapped
        report.opted_out += opted_out
        report.invalid += invalid

    # Requests go out on worker threads while this thread stores the previous answer, so the
    # DuckDB transaction overlaps the next round trip. At most `parallel` requests are in
    # flight; with 1 (the default) the operator never sees two at once.
    parallel = client.parallel_requests
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="uid2") as pool:
        in_flight: deque[Future[Answered]] = deque()
        next_number = 1

        def fill() -> None:
            nonlocal next_number
            while next_number <= total and len(in_flight) < parallel:
                batch = _read_batch(con, next_number)
                in_flight.append(pool.submit(_call, client, version, batch, total, log))
                next_number += 1

        try:
            fill()
            while in_flight:
                answered = in_flight.popleft().result()
                fill()
                absorb(*answered)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    con.execute("DROP TABLE IF EXISTS uid2_pending")
    if report.opted_out:
        # UID2 rows were cleared batch by batch; IDs other services gave them go now.
        with transaction(con):
            purge(con, "SELECT uid2_hash FROM optouts WHERE source = 'uid2_api'")
    report.wall_seconds = time.perf_counter() - started
    return report
