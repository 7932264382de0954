"""Benchmark: events landing (`identity_events`' ingest) on generated events.

Run: .venv/bin/python benchmarks/bench_events_ingest.py [--events 10000000]
(the test suite's smoke run: --events 3000 --events-per-file 1000)
Writes `--events` seed 003 events with identity_pipeline.dev.events (files of
`--events-per-file`, alternating .jsonl.gz and .parquet, CRM customers among the people), then
ingests them into a fresh DuckDB file in a child process, as the asset does, and prints rows/s
and the child's peak RSS. A second pass must find every file unchanged and load nothing; every
generated event must be stored once (the generator writes no bad rows); otherwise exit 1.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from identity_pipeline.dev.events import generate_events

INGEST = """
import json, sys, time
from pathlib import Path
from identity_pipeline.events.ingest import ingest_event_files
from identity_pipeline.warehouse import connect
with connect(Path(sys.argv[1])) as con:
    started = time.perf_counter()
    report = ingest_event_files(con, Path(sys.argv[2]), "US")
    seconds = time.perf_counter() - started
    stored = con.execute("SELECT (SELECT count(*) FROM raw_events), "
                         "(SELECT count(*) FROM identity_events)").fetchone()
print(json.dumps({"seconds": seconds, "files": report.files_loaded, "read": report.rows_read,
                  "loaded": report.rows_loaded, "rejected": report.rows_rejected,
                  "fields_rejected": report.fields_rejected, "duplicates": report.duplicates,
                  "unchanged": report.files_unchanged, "failed": len(report.files_failed),
                  "raw_events": stored[0], "identity_events": stored[1]}))
"""


def ingest(database: Path, events_dir: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", INGEST, str(database), str(events_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--events-per-file", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_events_") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        generated = generate_events(
            args.events,
            root / "landing",
            events_per_file=args.events_per_file,
            formats=("jsonl.gz", "parquet"),
            contacts_rows=max(1, args.events // 10),
        )
        size = sum(p.stat().st_size for p in generated.paths)
        print(
            f"generated {args.events:,} events of {generated.people:,} people in "
            f"{len(generated.paths)} file(s), {size / 1e6:,.0f} MB, "
            f"{time.perf_counter() - started:.1f} s"
        )
        database = root / "identity.duckdb"
        first = ingest(database, root / "landing" / "events")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rate = first["read"] / first["seconds"] if first["seconds"] else 0.0
        print(
            f"ingest: {int(first['files'])} file(s), {int(first['read']):,} rows read, "
            f"{int(first['loaded']):,} stored, {int(first['rejected']):,} rejected, "
            f"{int(first['fields_rejected']):,} fields rejected, "
            f"{int(first['duplicates']):,} duplicates"
        )
        print(
            f"ingest: {first['seconds']:.1f} s, {rate:,.0f} rows/s, peak RSS {peak_mb:,.0f} MB, "
            f"database {database.stat().st_size / 1e6:,.0f} MB"
        )
        second = ingest(database, root / "landing" / "events")
        print(
            f"second pass: {int(second['unchanged'])} file(s) unchanged, "
            f"{int(second['loaded']):,} stored, {second['seconds']:.2f} s"
        )
    problems = []
    if not (first["loaded"] == first["raw_events"] == first["identity_events"] == args.events):
        problems.append("not every generated event was stored exactly once")
    if first["rejected"] or first["failed"] or first["duplicates"]:
        problems.append("generated events were rejected, failed or seen twice")
    if second["loaded"] or second["unchanged"] != len(generated.paths):
        problems.append("the second pass loaded something")
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
