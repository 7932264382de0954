"""The Dagster assets switch engine on $IDENTITY_PIPELINE_ENGINE, through the real path.

One generated world (contacts ingested, sandbox-true mappings) is copied twice. Each copy runs
`identity-pipeline run` in child processes configured only by the environment: the default
engine, and IDENTITY_PIPELINE_ENGINE=spark against a Spark Connect server on 127.0.0.1. The
opt-out run publishes the snapshot Spark reads; the attribution job (one ranged run, as a
backfill) publishes landed days to the lake and runs attribution on Spark. Both warehouses
must end with the same rows, the lake must hold them too, every materialization must say
which engine ran it, and the default engine must never import pyspark. An opt-out learned
after a snapshot is honoured by the next Spark run. The Spark side runs twice: with the lake
on a plain path (DuckDB writes its inputs, LATEST names the snapshot) and at a file:// URI
(the Spark session writes and reads everything, commit records name the snapshot), as a lake
on s3a:// or hdfs:// would be.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from identity_pipeline import cli, settings
from identity_pipeline.definitions import defs
from identity_pipeline.dev.sandbox_mapping import write_sandbox_mappings
from identity_pipeline.dev.spark_processes import ConnectServer, java_home
from identity_pipeline.engine.lake import COMMITS, POINTER, SNAPSHOTS
from identity_pipeline.engine.state import SNAPSHOT
from identity_pipeline.sandboxes.uid2 import UID2SandboxConfig
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.dagster_processes import PROJECT
from identity_pipeline_tests.engine.test_engine_equivalence import lake_rows

pytestmark = pytest.mark.integration

NOW = "2025-06-12T06:00:00"
FIRST, LAST = "2025-06-03", "2025-06-08"
OUTPUTS = ("attributed_conversions", "campaign_attribution")
ENGINE_ASSETS = ("impressions", "conversions", *OUTPUTS)

RUN_JOB = """
import sys
from datetime import date
from identity_pipeline.run_job import run_job
code = run_job(sys.argv[1], *[date.fromisoformat(day) for day in sys.argv[2:]])
print("spark modules:", sorted({m.split(".")[0] for m in sys.modules} & {"pyspark", "sqlglot"}))
sys.exit(code)
"""
"""`identity-pipeline run JOB [--from --to]` (the same function), then which of Spark's
modules the process imported."""


def generate_world(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Contacts, ten days of activity and sandbox mappings in root/identity.duckdb."""
    monkeypatch.setenv(settings.ENV_DB, str(root / "identity.duckdb"))
    monkeypatch.setenv(settings.ENV_LANDING, str(root / "landing"))
    monkeypatch.setenv(settings.ENV_NOW, NOW)
    argv = ["generate", "--rows", "1500", "--out", str(root / "landing"), "--seed", "11"]
    argv += ["--days", "10", "--start-date", "2025-06-01", "--impressions-per-day", "300"]
    assert cli.main(argv) == 0
    with DagsterInstance.ephemeral() as instance:
        assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    with connect(root / "identity.duckdb") as con:
        counts = write_sandbox_mappings(
            con,
            now=datetime.fromisoformat(NOW).replace(tzinfo=UTC),
            history_from=date(2025, 6, 1),
            uid2_config=UID2SandboxConfig(optout_rate=0),
        )
    assert counts.uid2_with_previous > 0


def copy_world(world: Path, root: Path) -> Path:
    shutil.copytree(world, root)
    (root / "landing" / "optouts").mkdir(exist_ok=True)
    return root


def run_env(root: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SPARK_", "PYSPARK_", "IDENTITY_PIPELINE_", "DAGSTER_"))
    }
    env.update(
        {
            settings.ENV_DB: str(root / "identity.duckdb"),
            settings.ENV_LANDING: str(root / "landing"),
            settings.ENV_NOW: NOW,
            "DAGSTER_HOME": str(root / "dagster_home"),
            **extra,
        }
    )
    return env


def engine_envs(
    on_duckdb: Path,
    on_spark: Path,
    connect: ConnectServer,
    java: Path,
    spark_lake: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The child processes' environments: the default engine on one copy of a world, and
    IDENTITY_PIPELINE_ENGINE=spark through the Connect server (lake: `spark_lake`, by default
    the folder on_spark/lake)."""
    duck_env = run_env(on_duckdb, IDENTITY_PIPELINE_LAKE=str(on_duckdb / "lake"))
    spark_env = run_env(
        on_spark,
        IDENTITY_PIPELINE_ENGINE="spark",
        SPARK_REMOTE=connect.url,
        IDENTITY_PIPELINE_LAKE=spark_lake or str(on_spark / "lake"),
        JAVA_HOME=java_home(java),
    )
    return duck_env, spark_env


def run(env: dict[str, str], job: str, *days: str, log: Path) -> str:
    """One job in a child process, as `identity-pipeline run JOB --from --to` runs it."""
    command = [sys.executable, "-c", RUN_JOB, job, *days]
    done = subprocess.run(
        command, env=env, cwd=PROJECT, capture_output=True, text=True, timeout=900, check=False
    )
    log.write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return done.stdout.splitlines()[-1]


def rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def columns(db: Path, table: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def latest_metadata(root: Path, asset: str) -> dict[str, Any]:
    with DagsterInstance.from_config(str(root / "dagster_home")) as instance:
        event = instance.get_latest_materialization_event(AssetKey(asset))
        assert event is not None and event.asset_materialization is not None, asset
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def latest_snapshot_version(lake: Path, uri: bool) -> str:
    """The version a reader takes: LATEST on a path, the newest commit record on a URI."""
    if not uri:
        assert not (lake / SNAPSHOTS / SNAPSHOT / COMMITS).exists()
        return (lake / SNAPSHOTS / SNAPSHOT / POINTER).read_text().strip()
    assert not (lake / SNAPSHOTS / SNAPSHOT / POINTER).exists()
    records = f"{lake}/{SNAPSHOTS}/{SNAPSHOT}/{COMMITS}/version=*/*.parquet"
    with duckdb.connect() as con:
        row = con.execute(f"SELECT max(version) FROM read_parquet('{records}')").fetchone()
    assert row is not None and row[0]
    return str(row[0])


@pytest.mark.parametrize("lake_form", ["path", "uri"])
def test_attribution_job_on_spark_connect_writes_what_duckdb_writes(
    java: Path,
    spark_connect: ConnectServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lake_form: str,
) -> None:
    world = tmp_path / "world"
    generate_world(world, monkeypatch)
    on_duckdb = copy_world(world, tmp_path / "duckdb")
    on_spark = copy_world(world, tmp_path / "spark")
    lake = on_spark / "lake"
    spark_lake = f"file://{lake}" if lake_form == "uri" else None
    duck_env, spark_env = engine_envs(on_duckdb, on_spark, spark_connect, java, spark_lake)

    # Default engine: the opt-out run and the attribution range, with no pyspark import.
    for job, days in (("apply_optouts", ()), ("attribution", (FIRST, LAST))):
        loaded = run(duck_env, job, *days, log=tmp_path / f"duck-{job}.log")
        assert loaded == "spark modules: []", job
    assert "lake_snapshot" not in latest_metadata(on_duckdb, "optouts")
    assert not (on_duckdb / "lake").exists()

    # Spark: the opt-out run publishes the snapshot, the attribution run reads it.
    run(spark_env, "apply_optouts", log=tmp_path / "spark-optouts.log")
    first_version = latest_snapshot_version(lake, lake_form == "uri")
    assert latest_metadata(on_spark, "optouts")["lake_snapshot"] == first_version
    loaded = run(spark_env, "attribution", FIRST, LAST, log=tmp_path / "spark-attribution.log")
    assert loaded == "spark modules: ['pyspark', 'sqlglot']"

    duck_db, spark_db = on_duckdb / "identity.duckdb", on_spark / "identity.duckdb"
    for table in OUTPUTS:
        expected = rows(duck_db, table)
        assert len(expected) > 20, table
        assert rows(spark_db, table) == expected, table
        assert lake_rows(lake, table, columns(duck_db, table))[0] == expected, table
    for asset in ENGINE_ASSETS:
        duck_meta, spark_meta = latest_metadata(on_duckdb, asset), latest_metadata(on_spark, asset)
        assert duck_meta["engine"] == "duckdb", asset
        assert spark_meta["engine"] == "spark", asset
        assert spark_meta["days"] == duck_meta["days"] == 6, asset
        assert spark_meta["rows_in_run_days"] == duck_meta["rows_in_run_days"], asset
    attributed = latest_metadata(on_spark, "attributed_conversions")
    assert attributed["lake_snapshot"] == first_version
    assert attributed["spark"] == spark_connect.url
    for key in ("conversions", "attributed_conversions", "touches_by_match", "lookup_ids"):
        assert attributed[key] == latest_metadata(on_duckdb, "attributed_conversions")[key], key
    assert (
        latest_metadata(on_spark, "campaign_attribution")["campaigns"]
        == (latest_metadata(on_duckdb, "campaign_attribution")["campaigns"])
    )
    for day in range(3, 9):
        for table in ("impressions", "conversions", *OUTPUTS):
            assert (lake / table / f"day=2025-06-0{day}").is_dir(), (table, day)

    # The three people credited most opt out by a suppression file (hashes only). After the
    # opt-out run, a new snapshot; the next Spark run credits none of them, on both sides.
    with duckdb.connect(str(spark_db), read_only=True) as con:
        top = con.execute(
            "SELECT d.dii_id, d.uid2_hash FROM attributed_conversions AS a "
            "JOIN dii AS d USING (dii_id) GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 3"
        ).fetchall()
    assert len(top) == 3
    for root in (on_duckdb, on_spark):
        with (root / "landing" / "optouts" / "late.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["uid2_hash"])
            writer.writerows([[h] for _, h in top])
    run(spark_env, "apply_optouts", log=tmp_path / "spark-optouts-2.log")
    second_version = latest_snapshot_version(lake, lake_form == "uri")
    assert second_version != first_version
    run(spark_env, "attribution", FIRST, LAST, log=tmp_path / "spark-attribution-2.log")
    assert latest_metadata(on_spark, "attributed_conversions")["lake_snapshot"] == second_version
    opted_out = {dii_id for dii_id, _ in top}
    with duckdb.connect(str(spark_db), read_only=True) as con:
        credited = {
            r[0] for r in con.execute("SELECT dii_id FROM attributed_conversions").fetchall()
        }
    assert credited and not credited & opted_out

    run(duck_env, "apply_optouts", log=tmp_path / "duck-optouts-2.log")
    run(duck_env, "attribution", FIRST, LAST, log=tmp_path / "duck-attribution-2.log")
    for table in OUTPUTS:
        expected = rows(duck_db, table)
        assert rows(spark_db, table) == expected, table
        assert lake_rows(lake, table, columns(duck_db, table))[0] == expected, table
