"""The README's first command, as a user runs it (on a small row count), and what it leaves
in the shared Dagster instance for `identity-pipeline ui` and `identity-pipeline run`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
from identity_pipeline.dagster_instance import project_config
from identity_pipeline.definitions import defs
from identity_pipeline.reporting.charts import PNG_SIGNATURE, image_of

pytestmark = pytest.mark.integration
DEMO_JOBS = [
    "ingest_contacts",
    "uid2_refresh",
    "id5_refresh",
    "identity_graph_refresh",
    "attribution",
]


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
    assert "persons on several devices" in first.stdout
    assert "persons in segment engaged_no_purchase" in first.stdout
    # Not a terminal: whole lines, one per step, no progress bar redrawn with control codes.
    steps = [line for line in first.stdout.splitlines() if re.match(r"\[\d/6\] ", line)]
    assert [s.split(":")[0] for s in steps] == [
        "[1/6] generate",
        "[2/6] ingest_contacts",
        "[3/6] uid2_refresh",
        "[4/6] id5_refresh",
        "[5/6] identity_graph_refresh",
        "[6/6] attribution",
    ]
    assert "\r" not in first.stdout and "\x1b[" not in first.stdout
    assert "Warning" not in first.stdout + first.stderr  # nothing a user cannot act on
    home = tmp_path / "dagster_home"  # next to the DuckDB file, DAGSTER_HOME unset
    assert f"using Dagster instance {home}" in first.stdout
    assert_demo_in_instance(home, runs_per_job=1)
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        attributed = con.execute("SELECT count(*) FROM attributed_conversions").fetchone()
        days = con.execute("SELECT count(DISTINCT day) FROM campaign_attribution").fetchone()
    assert attributed is not None and attributed[0] > 0
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        scored = con.execute(
            "SELECT (SELECT count(*) FROM persons), count(*), count(DISTINCT segment) "
            "FROM customer_segments"
        ).fetchone()
        unconverted = con.execute(
            "SELECT sum(unconverted_purchases), sum(total_purchases) FROM customer_metrics"
        ).fetchone()
    assert scored is not None and scored[0] == scored[1] and scored[2] >= 3
    # The sample rates cover every currency the generator writes: nothing left unconverted.
    assert unconverted is not None and unconverted[0] == 0 and unconverted[1] > 0
    assert days == (30,)
    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_contacts").fetchone() == counts
        assert con.execute("SELECT count(*) FROM dii").fetchone() == identities
    # The instance persists: the second demo's runs join the first's.
    assert_demo_in_instance(home, runs_per_job=2)

    # `identity-pipeline run` uses the same instance; a partitioned job takes a day range.
    day = days_range(tmp_path)[-1]
    for args in (["ingest_contacts"], ["attribution", "--from", day, "--to", day]):
        done = subprocess.run(
            [sys.executable, "-m", "identity_pipeline.cli", "run", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"Dagster instance: {home}" in done.stdout
    with DagsterInstance.from_config(str(home)) as instance:
        jobs = [run.job_name for run in instance.get_runs()]
        assert jobs.count("ingest_contacts") == 3 and jobs.count("attribution") == 3
        latest = instance.get_runs(filters=RunsFilter(job_name="attribution"), limit=1)[0]
        assert latest.tags[RANGE_START_TAG] == latest.tags[RANGE_END_TAG] == day
    unknown = subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", "run", "no_such_job"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert unknown.returncode == 2 and "no job 'no_such_job'; jobs are:" in unknown.stderr


def days_range(tmp_path: Path) -> list[str]:
    with duckdb.connect(str(tmp_path / "identity.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT day FROM campaign_attribution ORDER BY 1").fetchall()
    return [row[0].isoformat() for row in rows]


def assert_demo_in_instance(home: Path, runs_per_job: int) -> None:
    """What `identity-pipeline ui` shows after the demo: its runs, every asset's latest
    materialization with metadata, attribution's partitions, check results."""
    assert (home / "dagster.yaml").read_text() == project_config().read_text()
    with DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(run.job_name for run in runs) == sorted(DEMO_JOBS * runs_per_job)
        assert all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        for key in defs.resolve_asset_graph().get_all_asset_keys():
            event = instance.get_latest_materialization_event(key)
            assert event is not None and event.asset_materialization is not None, key
            assert event.asset_materialization.metadata, key
        campaign = AssetKey("campaign_attribution")
        assert len(instance.get_materialized_partitions(campaign)) == 30
        chart = instance.get_latest_materialization_event(campaign)
        assert chart is not None and chart.asset_materialization is not None
        markdown = chart.asset_materialization.metadata["value_by_campaign"].value
        assert image_of(str(markdown)).startswith(PNG_SIGNATURE)
        check = AssetCheckKey(AssetKey("dii"), "dii_unique")
        records = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
        assert len(records) == runs_per_job
