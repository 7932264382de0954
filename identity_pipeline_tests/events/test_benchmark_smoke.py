"""benchmarks/bench_events_ingest.py at tiny scale: it runs, and its figures add up."""

from __future__ import annotations

import re
from pathlib import Path

from identity_pipeline_tests.benchmarks.test_benchmark_smoke import run_benchmark


def test_bench_events_ingest_stores_every_event_once(tmp_path: Path) -> None:
    out = run_benchmark(
        "bench_events_ingest.py", "--events", "3000", "--events-per-file", "1000", cwd=tmp_path
    )
    assert "ingest: 3 file(s), 3,000 rows read, 3,000 stored, 0 rejected" in out
    assert "second pass: 3 file(s) unchanged, 0 stored" in out
    rate = re.search(r"([\d,]+) rows/s, peak RSS ([\d,]+) MB", out)
    assert rate and int(rate[1].replace(",", "")) > 0 and int(rate[2].replace(",", "")) > 0
