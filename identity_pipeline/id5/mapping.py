"""Send what is due to ID5 and store each answered batch, with its history rows, atomically.

The same shape as `uid2.mapping`: the due list is cut into batches in SQL, each request runs
on a worker thread while this thread commits the previous answer in one DuckDB transaction,
and answers reach DuckDB as Arrow tables. The connection stays open for the loop (reopening
costs about 25 ms); that is safe because every ID5 step sits in the `id5_api` pool and the run
queue admits one run at a time (dagster.yaml).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from identity_pipeline.contacts.normalize import install_macros
from identity_pipeline.id5.client import ID5Client
from identity_pipeline.mapping.retry import CallStats
from identity_pipeline.uid2.mapping import naive_utc
from identity_pipeline.warehouse import execute_script, read_sql, transaction

Log = Callable[[str], None]
SQL = "identity_pipeline.id5"


@dataclass
class MappingReport:
    """Counts for materialization metadata; no identifiers."""

    due: int = 0
    sent: int = 0
    mapped: int = 0
    errors: int = 0
    rotated: int = 0  # answers whose ID5 ID differs from the one we held
    batches: int = 0
    calls: CallStats = field(default_factory=CallStats)
    wall_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def local_seconds(self) -> float:
        """Time not spent waiting on the API: reading, building requests, parsing, writing."""
        return max(self.wall_seconds - self.calls.api_seconds, 0.0)


@dataclass(frozen=True)
class _Batch:
    number: int
    rows: pa.Table  # dii_id, id5_hash, known_uid, country_alpha2, source_seen_at; request order

    @property
    def size(self) -> int:
        return int(self.rows.num_rows)


Answered = tuple[_Batch, pa.Table, CallStats]


def refresh_due_list(
    con: duckdb.DuckDBPyConnection,
    client: ID5Client,
    now: datetime,
    *,
    only_new: bool = False,
) -> dict[str, int]:
    """Rebuild id5_due_for_refresh; returns the count per reason."""
    install_macros(con)  # ip_country_code: contacts and ID5 read a country the same way
    execute_script(
        con,
        read_sql(SQL, "due_for_refresh.sql"),
        {
            "now": naive_utc(now),
            "refresh_days": client.refresh_interval_days,
            "only_new": only_new,
        },
    )
    reasons = con.execute("SELECT reason, count(*) FROM id5_due_for_refresh GROUP BY 1").fetchall()
    return {str(reason): int(count) for reason, count in reasons}


def _plan_batches(con: duckdb.DuckDBPyConnection, size: int) -> tuple[int, int]:
    """Fill temp table id5_pending; returns (identities, batches)."""
    execute_script(con, read_sql(SQL, "pending_batch_rows.sql"), {"size": size})
    row = con.execute("SELECT count(*), coalesce(max(batch_no), 0) FROM id5_pending").fetchall()
    return int(row[0][0]), int(row[0][1])


def _read_batch(con: duckdb.DuckDBPyConnection, number: int) -> _Batch:
    rows = con.sql(
        "SELECT dii_id, id5_hash, known_uid, country_alpha2, last_seen_at AS source_seen_at "
        "FROM id5_pending WHERE batch_no = CAST($number AS BIGINT) ORDER BY pos",
        params={"number": number},
    ).to_arrow_table()
    return _Batch(number, rows)


def _call(client: ID5Client, batch: _Batch, total: int, log: Log) -> Answered:
    """The network edge, on a worker thread so the previous batch's commit overlaps it."""
    stats = CallStats()
    what = f"ID5 batch {batch.number}/{total} ({batch.size} users)"

    def on_retry(reason: str, attempt: int, sleep: float) -> None:
        log(f"{what}: {reason}; retry {attempt} in {sleep:.1f}s")

    columns = batch.rows.to_pydict()
    answer = client.map_emails(
        columns["dii_id"],
        columns["id5_hash"],
        columns["known_uid"],
        columns["country_alpha2"],
        stats=stats,
        what=what,
        on_retry=on_retry,
    )
    return batch, answer, stats


def _store(
    con: duckdb.DuckDBPyConnection, batch: _Batch, answer: pa.Table, requests: int, now: datetime
) -> tuple[int, int, int]:
    """Write one answered batch and its history rows in one transaction; (mapped, errors,
    rotated)."""
    if answer.num_rows != batch.size:
        raise RuntimeError(f"batch {batch.number}: {answer.num_rows} answers for {batch.size}")
    combined = batch.rows.select(["dii_id", "id5_hash", "source_seen_at"])
    for name in ("uid", "country_alpha2", "error_code"):
        combined = combined.append_column(name, answer.column(name))
    mapped = batch.size - answer.column("uid").null_count
    con.register("id5_answer", combined)
    try:
        with transaction(con):
            rotated = con.execute(
                "SELECT count(*) FROM id5_answer AS a JOIN id5_mapping AS m USING (dii_id) "
                "WHERE a.uid IS NOT NULL AND m.id5_uid IS NOT NULL AND m.id5_uid <> a.uid"
            ).fetchall()[0][0]
            params = {"now": now, "requests": requests}
            execute_script(con, read_sql(SQL, "apply_batch.sql"), params)
    finally:
        con.unregister("id5_answer")
    return mapped, batch.size - mapped, int(rotated)


def map_due_identities(
    con: duckdb.DuckDBPyConnection, client: ID5Client, now: datetime, log: Log
) -> MappingReport:
    """Map every pending due email; each answered batch commits before the run moves on."""
    started = time.perf_counter()
    report = MappingReport()
    stored_at = naive_utc(now)
    report.due, total = _plan_batches(con, client.effective_batch_size)
    # Checkpoint once when the connection closes, not in the middle of a batch's commit.
    con.execute("SET checkpoint_threshold = '1GB'")

    def absorb(batch: _Batch, answer: pa.Table, stats: CallStats) -> None:
        write_started = time.perf_counter()
        mapped, errors, rotated = _store(con, batch, answer, stats.requests, stored_at)
        report.write_seconds += time.perf_counter() - write_started
        report.calls.merge(stats)
        report.batches += 1
        report.sent += batch.size
        report.mapped += mapped
        report.errors += errors
        report.rotated += rotated

    # One request in flight (ID5 gives no parallelism guidance; the pool allows one step):
    # request n+1 goes out on the worker thread while this thread stores answer n.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="id5") as pool:
        in_flight: deque[Future[Answered]] = deque()
        next_number = 1

        def submit_next() -> None:
            nonlocal next_number
            if next_number <= total:
                batch = _read_batch(con, next_number)
                in_flight.append(pool.submit(_call, client, batch, total, log))
                next_number += 1

        try:
            submit_next()
            while in_flight:
                answered = in_flight.popleft().result()
                submit_next()
                absorb(*answered)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    con.execute("DROP TABLE IF EXISTS id5_pending")
    report.wall_seconds = time.perf_counter() - started
    return report
