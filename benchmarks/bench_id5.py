"""Benchmark: map N emails to ID5 against the local sandbox at zero added latency.

Run: .venv/bin/python benchmarks/bench_id5.py [--emails 100000] [--refresh]
(the test suite's smoke run: --emails 300 --refresh)
The sandbox runs in its own process (as the real service would), so its CPU is not ours.
Prints wall seconds, seconds waiting on the API, and client-side milliseconds per 1,000-user
batch: (wall - API wait) / batches, i.e. what the client adds beyond the service's round trips:
reading due rows, building the JSON request, parsing the answer and matching it by
partner_user_id, and the DuckDB transaction that stores id5_mapping and id5_uid_history (each
commit overlaps the next request, so only the part not hidden behind a round trip counts).
With --refresh it then moves the sandbox clock and the pipeline clock past the refresh
interval and maps everything again, now with known_uids, rotations and history upserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from _sandbox import start_sandbox  # benchmarks/_sandbox.py (this script's folder)

from identity_pipeline import settings
from identity_pipeline.id5.client import ID5Client
from identity_pipeline.id5.mapping import MappingReport, map_due_identities, refresh_due_list
from identity_pipeline.sandboxes.id5 import ID5SandboxConfig
from identity_pipeline.warehouse import connect


def seed_emails(database: Path, count: int) -> None:
    """dii rows for `count` emails with real-looking hashes (hex and base64 of one SHA-256)."""
    with connect(database) as con:
        con.execute(
            """
            INSERT INTO dii
            SELECT i, 'email', to_base64(unhex(sha256('bench-' || i))), sha256('bench-' || i),
                   TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', 1
            FROM range(1, ? + 1) AS t(i)
            """,
            [count],
        )


def advance_sandbox(url: str, days: float) -> datetime:
    """Move the sandbox clock (its admin endpoint) and return its new time."""
    request = urllib.request.Request(  # noqa: S310 - our own sandbox on 127.0.0.1
        f"{url}/_sandbox/clock",
        data=json.dumps({"advance_days": days}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return datetime.fromisoformat(json.loads(response.read())["now"])


def run(database: Path, client: ID5Client) -> tuple[MappingReport, float]:
    started = time.perf_counter()
    with connect(database) as con:
        refresh_due_list(con, client, settings.now())
        report = map_due_identities(con, client, settings.now(), print)
    return report, time.perf_counter() - started


def show(title: str, report: MappingReport, wall: float) -> None:
    per_batch_ms = 1000 * report.local_seconds / max(report.batches, 1)
    write_ms = 1000 * report.write_seconds / max(report.batches, 1)
    print(f"-- {title}")
    print(f"users                {report.sent:,} ({report.batches} batches of ≤1,000)")
    print(f"mapped/rotated/errors {report.mapped:,} / {report.rotated:,} / {report.errors:,}")
    print(f"wall seconds         {wall:.2f} (incl. due list and connection)")
    print(f"api wait seconds     {report.calls.api_seconds:.2f}")
    whole_ms = 1000 * max(wall - report.calls.api_seconds, 0.0) / max(report.batches, 1)
    print(
        f"client ms per batch  {per_batch_ms:.1f} (mapping loop wall - api wait); "
        f"{whole_ms:.1f} incl. due list and connection"
    )
    print(f"DuckDB ms per batch  {write_ms:.1f} (commit of batch n overlaps request n+1)")


def check(database: Path, report: MappingReport, emails: int, history: int) -> int:
    """Exit 1 unless every email was sent and answered once, and the history adds up."""
    with connect(database) as con:
        stored, rows = con.execute(
            "SELECT (SELECT count(*) FROM id5_mapping), (SELECT count(*) FROM id5_uid_history)"
        ).fetchall()[0]
    if not report.sent == report.mapped + report.errors == stored == emails or rows != history:
        raise SystemExit(
            f"{emails:,} emails: {report.sent:,} sent, {report.mapped:,} mapped, "
            f"{report.errors:,} errors, {stored:,} stored, {rows:,} history rows ({history:,} "
            "expected)"
        )
    return int(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--refresh", action="store_true", help="then refresh everything")
    args = parser.parse_args()
    config = ID5SandboxConfig()
    sandbox, url = start_sandbox("id5")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "bench.duckdb"
            seed_emails(database, args.emails)
            client = ID5Client(base_url=url, partner_id=config.partner, token=config.token)
            report, wall = run(database, client)
            show("first mapping", report, wall)
            expect_history = check(database, report, args.emails, args.emails)
            if args.refresh:
                moved = advance_sandbox(url, client.refresh_interval_days + 1)
                os.environ[settings.ENV_NOW] = moved.isoformat()
                report, wall = run(database, client)
                show(f"refresh after {client.refresh_interval_days + 1} days", report, wall)
                history = check(database, report, args.emails, expect_history + report.rotated)
                print(f"history rows         {history:,}")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS             {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
