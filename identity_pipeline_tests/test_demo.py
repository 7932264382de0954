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
    for name in ("DAGSTER_HOME", "UID2_BASE_URL", "UID2_API_KEY", "UID2_SECRET_KEY"):
        env.pop(name, None)  # no credentials: the demo must bring its own sandbox
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
        mapped = con.execute(
            "SELECT count(*) FILTER (WHERE status IN ('mapped', 'optout')) FROM uid2_mapping"
        ).fetchone()
    assert counts == (2000,)
    assert mapped == identities  # every identity went to the (sandbox) operator
    assert "using UID2 sandbox http://127.0.0.1:" in first.stdout
    assert "UID2 mapped" in first.stdout
    assert "attribution per campaign" in first.stdout
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        attributed = con.execute("SELECT count(*) FROM attributed_conversions").fetchone()
        days = con.execute("SELECT count(DISTINCT day) FROM campaign_attribution").fetchone()
    assert attributed is not None and attributed[0] > 0
    assert days == (30,)
    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_contacts").fetchone() == counts
        assert con.execute("SELECT count(*) FROM dii").fetchone() == identities
