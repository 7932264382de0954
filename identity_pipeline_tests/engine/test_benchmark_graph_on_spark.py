"""benchmarks/bench_identity_graph.py --engine spark end to end at tiny scale: the portable
SQL components also run on Spark local[2] (a driver JVM of the child's own) and must give
scipy's partition on both graphs."""

import os
import subprocess
import sys
from pathlib import Path

from identity_pipeline.dev.spark_processes import java_home

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_with_the_spark_engine_at_tiny_scale(java: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env["JAVA_HOME"] = java_home(java)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_identity_graph.py"),
            "--events",
            "2000",
            "--chains",
            "2",
            "--chain-length",
            "30",
            "--engine",
            "spark",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    lines = [line for line in done.stdout.splitlines() if "portable SQL on Spark" in line]
    assert len(lines) == 2, done.stdout
    assert all("equal partition: True" in line for line in lines), lines
    print("\n".join(lines))
