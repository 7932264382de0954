"""Every script in benchmarks/ runs here at tiny scale, so none can rot unnoticed.

Each runs as a user runs it (its own process, `python benchmarks/NAME.py` with small arguments)
and must exit 0 with figures that add up. The benchmarks check their own results too (equal
answers from the two formulations, every identity mapped once, tables identical on a re-run) and
exit 1 when they do not hold; these tests read the printed figures on top of that. Timings are
not asserted: speed targets live in the benchmarks' full-size runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
TESTS = REPO / "identity_pipeline_tests"


def run_benchmark(script: str, *args: str, cwd: Path, timeout: float = 300) -> str:
    """Run one benchmark; its stdout. Credentials and pinned clocks of the caller stay out."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("IDENTITY_PIPELINE_", "UID2_", "ID5_", "DAGSTER_HOME", "SPARK_", "PYSPARK_")
        )
    }
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done.stdout


def numbers(pattern: str, text: str) -> list[int]:
    """The integers captured by `pattern` (thousands separators allowed) in its first match."""
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in:\n{text}"
    return [int(group.replace(",", "")) for group in found.groups()]


def test_bench_attribution_both_cases_agree_with_the_or_join(tmp_path: Path) -> None:
    out = run_benchmark("bench_attribution.py", "--scale", "0.001", cwd=tmp_path)
    cases = re.findall(r"== ([\d,]+) mapping / ([\d,]+) impressions / ([\d,]+) conversions", out)
    assert cases == [("1,000", "1,000", "100"), ("10,000", "10,000", "1,000")]
    assert numbers(r"'uid2_mapping': (\d+), 'id5_uid_history': (\d+)", out)[0] == 1_000
    touches, attributed, conversions = numbers(
        r"ours: .*?([\d,]+) touches for ([\d,]+) of ([\d,]+) conversions", out
    )
    assert conversions == 100 and 0 < attributed <= min(touches, conversions)
    pairs = re.search(
        r"pairs \[(\d+), (\d+)\] \(ours, same scope: \[(\d+), (\d+)\], equal: True\)", out
    )
    assert pairs is not None, out
    assert pairs.group(1, 2) == pairs.group(3, 4) and int(pairs.group(1)) > 0
    sample, ours_scope = numbers(
        r"sample pairs \(impression, identity\): ([\d,]+); ours, same scope: ([\d,]+), "
        r"equal: True",
        out,
    )
    assert sample == ours_scope > 0


def test_bench_hash_matches_the_sdk_on_every_row(tmp_path: Path) -> None:
    out = run_benchmark("bench_hash.py", "--rows", "2000", "--repeat", "1", cwd=tmp_path)
    assert numbers(r"rows: ([\d,]+) messy emails", out) == [2_000]
    assert numbers(r"hash mismatches vs SDK: (\d+)", out) == [0]
    for side in ("identity-pipeline hash", "uid2_client loop", "floor"):
        rate = numbers(rf"{re.escape(side)}.*?([\d,]+) rows/s", out)[0]
        assert rate > 0


def test_bench_uid2_maps_every_identity_once(tmp_path: Path) -> None:
    out = run_benchmark("bench_uid2.py", "--identities", "300", cwd=tmp_path)
    assert numbers(r"identities\s+([\d,]+) \((\d+) batches", out) == [300, 1]
    mapped, opted_out, invalid = numbers(
        r"mapped/optout/invalid ([\d,]+) / ([\d,]+) / ([\d,]+)", out
    )
    assert mapped + opted_out + invalid == 300 and mapped > 250 and invalid == 0


def test_bench_id5_maps_and_refreshes_every_email(tmp_path: Path) -> None:
    out = run_benchmark("bench_id5.py", "--emails", "300", "--refresh", cwd=tmp_path)
    first, refresh = out.split("-- refresh after")
    assert numbers(r"mapped/rotated/errors ([\d,]+) / ([\d,]+) / ([\d,]+)", first) == [300, 0, 0]
    mapped, rotated, errors = numbers(
        r"mapped/rotated/errors ([\d,]+) / ([\d,]+) / ([\d,]+)", refresh
    )
    assert mapped == 300 and errors == 0 and 0 < rotated < 300
    assert numbers(r"history rows\s+([\d,]+)", refresh) == [300 + rotated]


def test_backfill_30_days_rebuilds_identically(tmp_path: Path) -> None:
    out = run_benchmark(
        "backfill_30_days.py",
        *("--rows", "500", "--days", "3", "--impressions-per-day", "1500"),
        *("--dir", str(tmp_path / "data")),
        cwd=tmp_path,
    )
    for asset in ("conversions", "impressions", "attributed_conversions", "campaign_attribution"):
        assert numbers(rf"  {asset}\s+(\d+) partitions materialized", out) == [3]
    conversions, attributed = numbers(r"'conversions': (\d+), 'attributed_conversions': (\d+)", out)
    assert 0 < attributed <= conversions
    assert "tables identical: True" in out
    assert (tmp_path / "data" / "identity.duckdb").is_file()


def test_every_benchmark_has_a_smoke_test() -> None:
    """A new script in benchmarks/ must be run by some test (this file or another)."""
    tests = "\n".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    scripts = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
    assert scripts and [s for s in scripts if f'"{s}"' not in tests] == []
