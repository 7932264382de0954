"""Benchmark: `identity-pipeline hash` (whole process, Parquet in/out) vs the SDK's per-row loop.

Run: .venv/bin/python benchmarks/bench_hash.py [--rows 2000000]
Prints both rates, the ratio and peak memory (max RSS) of each side.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from uid2_client.input_util import normalize_and_hash_email

from identity_pipeline.contacts.generate import generate_contacts


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = messy_emails(args.rows, folder)
        values = [
            r[0] for r in duckdb.sql(f"SELECT value FROM read_parquet('{source}')").fetchall()
        ]

        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "identity_pipeline.cli",
                "hash",
                str(source),
                str(folder / "out.parquet"),
                "--type",
                "email",
            ],
            check=True,
            capture_output=True,
        )
        ours = time.perf_counter() - started
        ours_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

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
            r[0]
            for r in duckdb.sql(
                f"SELECT uid2_hash FROM read_parquet('{folder}/out.parquet')"
            ).fetchall()
        ]
        mismatches = sum(a != b for a, b in zip(hashes, ours_hashes, strict=True))

    n = args.rows
    print(f"rows: {n:,} messy emails (Parquet in, Parquet out)")
    print(
        f"identity-pipeline hash (whole process): {ours:6.2f} s  {n / ours:12,.0f} rows/s  "
        f"peak RSS {ours_rss:,.0f} MB"
    )
    print(
        f"uid2_client loop (in process)         : {sdk:6.2f} s  {n / sdk:12,.0f} rows/s  "
        f"peak RSS {sdk_rss:,.0f} MB (includes the benchmark's own data)"
    )
    print(f"ratio: {sdk / ours:.1f}x   hash mismatches vs SDK: {mismatches}")


if __name__ == "__main__":
    main()
