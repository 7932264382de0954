"""Benchmark: map N identities to UID2 against the local sandbox at zero latency.

Run: .venv/bin/python benchmarks/bench_uid2.py [--identities 100000] [--parallel 1]
(the test suite's smoke run: --identities 300)
The sandbox runs in its own process (as a real operator would), so its CPU is not ours.
Prints wall seconds, seconds waiting on the API, and client-side milliseconds per 5,000-batch:
(wall - API wait) / batches, i.e. what the client adds to the run beyond the server's round
trips: reading due rows, building and encrypting requests, decrypting and parsing answers, and
the DuckDB transactions (each batch's commit overlaps the next request, so only the part that
is not hidden behind a round trip counts). The DuckDB time per batch is printed on its own.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from _sandbox import start_sandbox  # benchmarks/_sandbox.py (this script's folder)

from identity_pipeline import settings
from identity_pipeline.sandboxes.uid2 import UID2SandboxConfig
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline.uid2.mapping import map_due_identities, refresh_due_list
from identity_pipeline.warehouse import connect


def seed_identities(database: Path, count: int) -> None:
    """dii rows with real-looking hashes: 80% emails, 20% phones."""
    with connect(database) as con:
        con.execute(
            """
            INSERT INTO dii
            SELECT i, CASE WHEN i % 5 = 0 THEN 'phone' ELSE 'email' END,
                   to_base64(unhex(sha256('bench-' || i))),
                   CASE WHEN i % 5 = 0 THEN NULL ELSE sha256('bench-' || i) END,
                   TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', 1
            FROM range(1, ? + 1) AS t(i)
            """,
            [count],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()
    config = UID2SandboxConfig()
    sandbox, url = start_sandbox("uid2")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "bench.duckdb"
            seed_identities(database, args.identities)
            client = UID2Client(
                base_url=url,
                api_key=config.api_key,
                secret_key=config.secret,
                max_parallel_requests=args.parallel,
            )
            started = time.perf_counter()
            with connect(database) as con:
                refresh_due_list(con, client, settings.now(), print)
                report = map_due_identities(con, client, settings.now(), print)
            wall = time.perf_counter() - started
            with connect(database) as con:
                stored = con.execute("SELECT count(*) FROM uid2_mapping").fetchall()[0][0]
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_batch_ms = 1000 * report.local_seconds / max(report.batches, 1)
    print(f"identities           {report.sent:,} ({report.batches} batches of ≤5,000)")
    print(f"mapped/optout/invalid {report.mapped:,} / {report.opted_out:,} / {report.invalid:,}")
    print(f"wall seconds         {wall:.2f} (incl. due list and connection)")
    print(f"api wait seconds     {report.calls.api_seconds:.2f}")
    print(f"client ms per batch  {per_batch_ms:.1f} (wall - api wait; target ≤ 25)")
    write_ms = 1000 * report.write_seconds / max(report.batches, 1)
    print(f"DuckDB ms per batch  {write_ms:.1f} (commit of batch n overlaps request n+1)")
    print(f"peak RSS             {rss_mb:.0f} MB")
    answered = report.mapped + report.opted_out + report.invalid
    if not report.sent == answered == stored == args.identities:
        raise SystemExit(
            f"{args.identities:,} identities, {report.sent:,} sent, {answered:,} answered, "
            f"{stored:,} stored: each must be mapped once"
        )


if __name__ == "__main__":
    main()
