"""The README's first command, as a user runs it (on a small row count)."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end_and_is_repeatable(tmp_path: Path):
    env = {
        **os.environ,
        "IDENTITY_PIPELINE_DB": str(tmp_path / "identity.duckdb"),
        "IDENTITY_PIPELINE_LANDING": str(tmp_path / "landing"),
        "COLUMNS": "120",
    }
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "identity_pipeline.cli", "demo", "--rows", "2000"]
    first = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "identities (email)" in first.stdout
    assert "@" not in first.stdout  # counts only, no DII in the summary
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        counts = con.execute("SELECT count(*) FROM raw_contacts").fetchone()
        identities = con.execute("SELECT count(*) FROM dii").fetchone()
    assert counts == (2000,)
    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_contacts").fetchone() == counts
        assert con.execute("SELECT count(*) FROM dii").fetchone() == identities
