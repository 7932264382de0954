"""Smoke run of benchmarks/bench_identity_service.py at tiny scale (own file: fewer merge
conflicts in test_benchmark_smoke.py)."""

from __future__ import annotations

import re
from pathlib import Path

from identity_pipeline_tests.benchmarks.test_benchmark_smoke import numbers, run_benchmark


def test_bench_identity_service_serves_both_kinds_and_loses_nothing(tmp_path: Path) -> None:
    out = run_benchmark(
        "bench_identity_service.py",
        "--persons",
        "2000",
        "--seconds",
        "2",
        "--clients",
        "8",
        cwd=tmp_path,
    )
    assert numbers(r"graph: ([\d,]+) persons, ([\d,]+) identifiers", out)[0] == 2_000
    for kind in ("create/update", "journal"):
        found = re.search(rf"{re.escape(kind)}\s+([\d,]+) requests\s+([\d,]+) req/s", out)
        assert found is not None and int(found.group(1).replace(",", "")) > 0, out
    assert numbers(r"failed requests: (\d+)", out) == [0]
    acked, landed, lost = numbers(
        r"([\d,]+) events acknowledged before the kill, ([\d,]+) in landing/events/ after "
        r"restart \(restart [\d.]+ s\); lost: (\d+)",
        out,
    )
    assert acked > 0 and landed == acked and lost == 0
    assert numbers(r"journal misses in a sample of \d+: (\d+)", out) == [0]
