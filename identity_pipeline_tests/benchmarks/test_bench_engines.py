"""benchmarks/bench_engines.py at tiny scale, as a user runs it, so it cannot rot.

DuckDB and the two-worker standalone cluster (separate JVMs started by the benchmark). Spark
local runs the same child with another master URL, so it is left to the full-size run to keep
this smoke test within its time on a shared machine. The benchmark exits 1 unless Spark's
outputs equal DuckDB's row for row; here the printed figures must add up too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from identity_pipeline_tests.benchmarks.test_benchmark_smoke import run_benchmark

pytestmark = pytest.mark.integration


def test_bench_engines_smoke_cluster_equals_duckdb(tmp_path: Path) -> None:
    args = ["--people", "2000", "--impressions", "2000", "--conversions", "200"]
    out = run_benchmark(
        "bench_engines.py", *args, "--engines", "cluster", cwd=tmp_path, timeout=1200
    )
    print(out)
    touches = re.search(r"duckdb: [\d.]+s, ([\d,]+) touches, ([\d,]+) campaign rows", out)
    assert touches is not None, out
    same = re.search(
        r"cluster: [\d.]+s .*outputs identical to DuckDB's: \{'attributed_conversions': (\d+), "
        r"'campaign_attribution': (\d+)\}",
        out,
    )
    assert same is not None, out
    assert [int(n.replace(",", "")) for n in touches.groups()] == [int(n) for n in same.groups()]
    assert int(same.group(1)) > 0
    rows = re.findall(
        r"^\| (DuckDB|Spark standalone)[^|]*\| ([\d,.]+) \| ([\d,]+) \| ([^|]+) \| ([\d,]+) \|$",
        out,
        re.M,
    )
    assert [r[0] for r in rows] == ["DuckDB", "Spark standalone"], out
    for _, seconds, driver_mb, _, rate in rows:
        assert float(seconds.replace(",", "")) > 0 and int(driver_mb.replace(",", "")) > 0
        assert int(rate.replace(",", "")) > 0
    assert re.fullmatch(r"[\d,]+ \([23] JVMs\)", rows[1][3].strip()), rows[1][3]
