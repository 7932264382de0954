"""benchmarks/bench_identity_graph.py end to end at tiny scale (Splink included)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_runs_and_checks_partitions_at_tiny_scale():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_identity_graph.py"),
            "--events",
            "4000",
            "--chains",
            "3",
            "--chain-length",
            "40",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "incremental graph == rebuild graph: True" in out
    assert out.count("equal partitions: SQL True, Splink True") == 2
    assert "chains graph: 120 nodes, 117 edges" in out
    for side in ("ours (scipy)", "ours (portable SQL)", "Splink 5 (DuckDB)", "full rebuild"):
        assert side in out
