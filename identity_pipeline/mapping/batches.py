"""The pipelined batch loop every mapping service runs, and its statistics.

The due list is cut into batches in SQL (a temp table with batch_no and pos); request n+1 goes
out on a worker thread while this thread commits answer n in one DuckDB transaction, so the
write overlaps the next round trip and a killed run keeps every batch it finished. Answers
reach DuckDB as Arrow tables. What differs per service (the wire format, the answer's columns,
the SQL that stores it) comes in as the `call` and `store` functions.

The DuckDB connection stays open for the whole loop (reopening costs about 25 ms, a whole
batch's budget); that is safe because each service's steps sit in their own Dagster pool and
the run queue admits one run at a time (dagster.yaml).
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

from identity_pipeline.mapping.retry import CallStats, RetryHook
from identity_pipeline.warehouse import Params, naive_utc, run_script, transaction

Log = Callable[[str], None]


@dataclass
class BatchReport:
    """Counts for materialization metadata; no identifiers. Services add their outcomes."""

    sent: int = 0
    mapped: int = 0
    batches: int = 0
    calls: CallStats = field(default_factory=CallStats)
    wall_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def local_seconds(self) -> float:
        """Time not spent waiting on the API: reading, building requests, parsing, writing."""
        return max(self.wall_seconds - self.calls.api_seconds, 0.0)

    def summary(self, service: str, unit: str, details: str) -> str:
        """The run in one log line, e.g. "UID2: sent 9 identities in 1 batch(es): 7 mapped,
        1 opted out, 1 invalid, 0 retries", where `details` (the service's own counts) follow
        "mapped"."""
        return (
            f"{service}: sent {self.sent} {unit} in {self.batches} batch(es): {self.mapped} "
            f"mapped{details}, {self.calls.retries} retries"
        )


@dataclass(frozen=True)
class Batch:
    """One request's rows, in the order the request carries them."""

    number: int
    rows: pa.Table

    @property
    def size(self) -> int:
        return int(self.rows.num_rows)


@dataclass(frozen=True)
class PendingBatches:
    """A temp table of due rows cut into batches: `batch_no` from 1, `pos` within a batch."""

    table: str
    columns: str
    """The SELECT list one batch is read with."""
    order_by: str
    """The order a batch's rows take in the request."""

    def plan(
        self, con: duckdb.DuckDBPyConnection, package: str, script: str, params: Params
    ) -> tuple[int, int]:
        """Fill the table with `script`; returns (rows, batches)."""
        run_script(con, package, script, params)
        row = con.execute(
            f"SELECT count(*), coalesce(max(batch_no), 0) FROM {self.table}"
        ).fetchall()
        return int(row[0][0]), int(row[0][1])

    def read(self, con: duckdb.DuckDBPyConnection, number: int) -> Batch:
        rows = con.sql(
            f"SELECT {self.columns} FROM {self.table} "
            f"WHERE batch_no = CAST($number AS BIGINT) ORDER BY {self.order_by}",
            params={"number": number},
        ).to_arrow_table()
        return Batch(number, rows)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"DROP TABLE IF EXISTS {self.table}")


Call = Callable[[pa.Table, CallStats, str, RetryHook], pa.Table]
"""Send one batch's rows (the network edge, on a worker thread); one answer row per row sent."""

Store = Callable[[pa.Table, pa.Table, Params], None]
"""Write one answered batch (rows sent, answer, and the merge's parameters: `now`, the run's
time as naive UTC, and `requests`, the requests it took) in one transaction."""

Answered = tuple[Batch, pa.Table, CallStats]


def map_batches(
    con: duckdb.DuckDBPyConnection,
    report: BatchReport,
    pending: PendingBatches,
    plan: tuple[str, str, Params],
    *,
    service: str,
    unit: str,
    parallel: int,
    call: Call,
    store: Store,
    now: datetime,
    log: Log,
    finish: Callable[[], None] | None = None,
) -> None:
    """Cut the due rows into batches with `plan` (package, script, params), send them, at most
    `parallel` in flight, storing each answer as it returns (stamped `now`); then `finish`.
    Fills `report`.

    `service` and `unit` name a batch in logs and errors ("UID2 batch 3/20 (5000 identities)");
    they never carry DII. With parallel=1 the service never sees two requests at once.
    """
    started = time.perf_counter()
    stored_at = naive_utc(now)
    _, total = pending.plan(con, *plan)
    # Checkpoint once when the connection closes, not in the middle of a batch's commit.
    con.execute("SET checkpoint_threshold = '1GB'")

    def send(batch: Batch) -> Answered:
        stats = CallStats()
        what = f"{service} batch {batch.number}/{total} ({batch.size} {unit})"

        def on_retry(reason: str, attempt: int, sleep: float) -> None:
            log(f"{what}: {reason}; retry {attempt} in {sleep:.1f}s")

        return batch, call(batch.rows, stats, what, on_retry), stats

    def absorb(batch: Batch, answer: pa.Table, stats: CallStats) -> None:
        if answer.num_rows != batch.size:
            raise RuntimeError(f"batch {batch.number}: {answer.num_rows} answers for {batch.size}")
        write_started = time.perf_counter()
        store(batch.rows, answer, {"now": stored_at, "requests": stats.requests})
        report.write_seconds += time.perf_counter() - write_started
        report.calls.merge(stats)
        report.batches += 1
        report.sent += batch.size

    prefix = service.lower()
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=prefix) as pool:
        in_flight: deque[Future[Answered]] = deque()
        next_number = 1

        def fill() -> None:
            nonlocal next_number
            while next_number <= total and len(in_flight) < parallel:
                in_flight.append(pool.submit(send, pending.read(con, next_number)))
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
    pending.drop(con)
    if finish is not None:
        finish()
    report.wall_seconds = time.perf_counter() - started


def store_answer(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    answered: pa.Table,
    package: str,
    script: str,
    params: Params,
    *,
    before: Callable[[], int] | None = None,
    after: Callable[[], None] | None = None,
) -> int:
    """Register `answered` as `relation`; in one transaction run `before` (a count taken
    before the write, returned), `script`, then `after`."""
    con.register(relation, answered)
    try:
        with transaction(con):
            counted = before() if before is not None else 0
            run_script(con, package, script, params)
            if after is not None:
                after()
    finally:
        con.unregister(relation)
    return counted
