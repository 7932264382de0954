"""Benchmark: `identity-pipeline hash` (whole process, Parquet in/out) vs the SDK's per-row loop.

Run: .venv/bin/python benchmarks/bench_hash.py [--rows 2000000] [--repeat 3]
(the test suite's smoke run: --rows 2000 --repeat 1)
Prints both rates, the ratio and peak memory (max RSS) of each side, and a floor: a process that
only imports DuckDB, hashes the raw strings (sha256, unhex, to_base64) and writes the same six
columns with the same Parquet options, without normalizing anything. No normalization can make
`hash` faster than that floor, so it shows how much of the time is DuckDB's hashing and writing.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from uid2_client.input_util import normalize_and_hash_email

from identity_pipeline.dev.generate_contacts import generate_contacts
from identity_pipeline.normalize.hashing import PARQUET_OPTIONS

FLOOR = """
import sys, duckdb
duckdb.sql(f\"\"\"
COPY (SELECT value, 'email' AS dii_type, value AS normalized, to_base64(unhex(h)) AS uid2_hash,
             h AS id5_hash, '' AS error
      FROM (SELECT value, sha256(value) AS h FROM read_parquet('{sys.argv[1]}')))
TO '{sys.argv[2]}' (FORMAT parquet, {sys.argv[3]})
\"\"\")
"""


def messy_emails(rows: int, folder: Path) -> Path:
    """Emails as a CRM holds them: the generator's email column (case, spaces, dots, tags)."""
    generate_contacts(rows, folder, seed=1)
    contacts = folder / "contacts"
    target = folder / "emails.parquet"
    duckdb.sql(
        f"""
        COPY (
            SELECT coalesce(email, '') AS value FROM read_csv('{contacts}/*.csv', all_varchar=true)
            UNION ALL
            SELECT coalesce(email, '') FROM read_parquet('{contacts}/*.parquet')
        ) TO '{target}' (FORMAT parquet)
        """
    )
    return target


def timed(command: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = messy_emails(args.rows, folder)
        values = [
            r[0] for r in duckdb.sql(f"SELECT value FROM read_parquet('{source}')").fetchall()
        ]
        out = folder / "out.parquet"
        hash_command = [sys.executable, "-m", "identity_pipeline.cli", "hash", str(source)]
        ours = timed([*hash_command, str(out), "--type", "email"], args.repeat)
        ours_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        floor = timed(
            [
                sys.executable,
                "-c",
                FLOOR,
                str(source),
                str(folder / "floor.parquet"),
                PARQUET_OPTIONS,
            ],
            args.repeat,
        )

        started = time.perf_counter()
        hashes = []
        for value in values:
            try:
                hashes.append(normalize_and_hash_email(value))
            except ValueError:
                hashes.append(None)
        sdk = time.perf_counter() - started
        sdk_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        ours_hashes = [
            r[0] for r in duckdb.sql(f"SELECT uid2_hash FROM read_parquet('{out}')").fetchall()
        ]
        mismatches = sum(a != b for a, b in zip(hashes, ours_hashes, strict=True))

    n = args.rows
    ours_median, floor_median = statistics.median(ours), statistics.median(floor)
    print(f"rows: {n:,} messy emails (Parquet in, Parquet out); median of {args.repeat} run(s)")
    print(
        f"identity-pipeline hash (whole process): {ours_median:6.2f} s  "
        f"{n / ours_median:12,.0f} rows/s  peak RSS {ours_rss:,.0f} MB  "
        f"(runs: {', '.join(f'{t:.2f}' for t in ours)})"
    )
    print(
        f"uid2_client loop (in process)         : {sdk:6.2f} s  {n / sdk:12,.0f} rows/s  "
        f"peak RSS {sdk_rss:,.0f} MB (includes the benchmark's own data)"
    )
    print(
        f"floor: DuckDB sha256 + write only     : {floor_median:6.2f} s  "
        f"{n / floor_median:12,.0f} rows/s  (runs: {', '.join(f'{t:.2f}' for t in floor)})"
    )
    print(
        f"ratio: {sdk / ours_median:.1f}x (best run {sdk / min(ours):.1f}x; the floor would be "
        f"{sdk / floor_median:.1f}x)   hash mismatches vs SDK: {mismatches}"
    )
    if mismatches:
        raise SystemExit(f"{mismatches} of {n:,} hashes differ from the SDK's")


if __name__ == "__main__":
    main()
