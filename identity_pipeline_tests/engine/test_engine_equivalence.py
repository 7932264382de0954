"""The attribution SELECTs give the same rows, with the same types, on DuckDB and on Spark.

One generated world (generated.py) is published as a Parquet snapshot and attributed twice:
by DuckDB (identity_pipeline.attribution.compute, what the assets run today) and by Spark in a
child process configured only through the environment: on a standalone cluster of two
workers, and through Spark Connect. Spark's outputs are read back from the lake's
day=YYYY-MM-DD Parquet folders and compared row for row with DuckDB's tables.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from identity_pipeline.attribution.compute import (
    DayWindow,
    attribute_conversions,
    build_id_lookup,
    summarize_campaigns,
)
from identity_pipeline.dev.spark_processes import (
    ConnectServer,
    StandaloneCluster,
    free_port,
    java_home,
)
from identity_pipeline.engine.lake import latest_snapshot, publish_days, publish_snapshot
from identity_pipeline.engine.schema import spark_type
from identity_pipeline.engine.state import SNAPSHOT_TABLES
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.engine.generated import (
    DAYS,
    EMPTY_CONVERSION_DAY,
    EMPTY_DAY,
    FIRST_DAY,
    generate_world,
)

pytestmark = pytest.mark.integration

WINDOW = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS))
LOOKBACK = 3
SNAPSHOT = "attribution_inputs"
OUTPUTS = ("attributed_conversions", "campaign_attribution")


def attribute_on_duckdb(db: Path, window: DayWindow) -> None:
    with connect(db) as con:
        attribute_conversions(con, window, LOOKBACK)
        summarize_campaigns(con, window)


def duckdb_lookup(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    with connect(db) as con:
        build_id_lookup(con, WINDOW.widened(LOOKBACK))
        rows = con.execute("SELECT * FROM attr_id_lookup ORDER BY ALL").fetchall()
        types = [(r[0], r[1]) for r in con.execute("DESCRIBE attr_id_lookup").fetchall()]
    return rows, types


def table_rows(db: Path, table: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        types = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
    return rows, types


def lake_rows(
    lake: Path, table: str, columns: list[str]
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """A Spark output as any Parquet reader sees it: day from the folder name, as DATE."""
    source = (
        f"read_parquet('{lake}/{table}/day=*/*.parquet', hive_partitioning = true, "
        "hive_types = {'day': 'DATE'})"
    )
    query = f"SELECT {', '.join(columns)} FROM {source}"
    with duckdb.connect() as con:
        rows = con.execute(f"{query} ORDER BY ALL").fetchall()
        types = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {query}").fetchall()]
    return rows, types


def run_on_spark(
    java: Path, env_overrides: dict[str, str], snapshot: str, window: DayWindow, out: Path
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env.update(
        {
            "IDENTITY_PIPELINE_ENGINE": "spark",
            "PYSPARK_PYTHON": sys.executable,
            "JAVA_HOME": java_home(java),
        }
    )
    env.update(env_overrides)
    command = [
        sys.executable,
        "-m",
        "identity_pipeline_tests.engine.spark_run",
        snapshot,
        window.start.isoformat(),
        window.end.isoformat(),
        str(LOOKBACK),
        str(out),
    ]
    # Its own process group: a classic driver's JVM goes with it even if the run hangs.
    log = out.with_suffix(".log")
    out.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        child = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        returncode = child.wait(timeout=900)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert returncode == 0, log.read_text(errors="replace")[-6000:]
    report: dict[str, Any] = json.loads((out / "run.json").read_text())
    print(f"spark run: {json.dumps(report)}")
    return report


def assert_same_outputs(db: Path, lake: Path, out: Path, report: dict[str, Any]) -> None:
    """Lookup, attributed_conversions and campaign_attribution: same rows, same types."""
    lookup_rows, lookup_types = duckdb_lookup(db)
    with duckdb.connect() as con:
        spark_lookup = con.execute(
            f"SELECT * FROM read_parquet('{out}/lookup/*.parquet') ORDER BY ALL"
        ).fetchall()
    assert len(lookup_rows) > 500
    assert spark_lookup == lookup_rows
    assert report["lookup_schema"] == [
        [name, spark_type(kind).lower()] for name, kind in lookup_types
    ]

    for table in OUTPUTS:
        expected, expected_types = table_rows(db, table)
        columns = [name for name, _ in expected_types]
        actual, actual_types = lake_rows(lake, table, columns)
        assert len(expected) > 50, table
        assert actual_types == expected_types, table
        assert actual == expected, table
    days = sorted(p.name for p in (lake / "attributed_conversions").glob("day=*"))
    assert days == [f"day={WINDOW.start + timedelta(days=n)}" for n in range(DAYS)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated inputs and their DuckDB attribution in a DuckDB file; returns its folder."""
    root = tmp_path_factory.mktemp("engine-world")
    db = root / "identity.duckdb"
    generate_world(db)
    attribute_on_duckdb(db, WINDOW)
    with duckdb.connect(str(db), read_only=True) as con:
        by_day = dict(
            con.execute("SELECT day, count(*) FROM attributed_conversions GROUP BY day").fetchall()
        )
    assert EMPTY_CONVERSION_DAY not in by_day and EMPTY_DAY not in by_day
    return root


def publish(db: Path, lake: Path, window: DayWindow) -> str:
    """Identity tables as a new snapshot version; the window's days of impressions (from
    the lookback before it) and conversions to the lake. Returns the snapshot's URI."""
    with connect(db) as con:
        impression_days = window.widened(LOOKBACK)
        publish_days(con, lake, "impressions", impression_days.start, impression_days.end)
        publish_days(con, lake, "conversions", window.start, window.end)
        publish_snapshot(con, lake, SNAPSHOT, SNAPSHOT_TABLES)
    return latest_snapshot(str(lake), SNAPSHOT)


def test_standalone_cluster_gives_duckdbs_rows_and_both_workers_run_tasks(
    world: Path, java: Path, spark_cluster: StandaloneCluster, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    snapshot = publish(world / "identity.duckdb", lake, WINDOW)
    conf = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": "1g",
        "spark.executor.memory": "512m",
        "spark.executor.cores": "1",
        "spark.cores.max": "2",
        "spark.ui.port": str(free_port()),
        "spark.sql.shuffle.partitions": "4",
        # Start work only once both executors are up, so both get tasks from the first job.
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    }
    report = run_on_spark(
        java,
        {
            "SPARK_MASTER": spark_cluster.master_url,
            "IDENTITY_PIPELINE_LAKE": str(lake),
            "IDENTITY_PIPELINE_SPARK_CONF": ",".join(f"{k}={v}" for k, v in conf.items()),
        },
        snapshot,
        WINDOW,
        tmp_path / "out",
    )
    assert not report["connect"]
    assert_same_outputs(world / "identity.duckdb", lake, tmp_path / "out", report)

    # The application ran on this cluster, and each worker's executor ran tasks.
    app = report["application_id"]
    master = spark_cluster.master_state()
    assert app in [a["id"] for a in master["completedapps"] + master["activeapps"]]
    tasks = {e["id"]: e["total_tasks"] for e in report["executors"] if e["id"] != "driver"}
    per_worker: dict[str, int] = {}
    for ui in spark_cluster.worker_uis:
        state = spark_cluster.worker_state(ui)
        ours = [e for e in state["executors"] + state["finishedexecutors"] if e["appid"] == app]
        per_worker[state["id"]] = sum(tasks.get(str(e["id"]), 0) for e in ours)
    print(f"tasks per worker: {per_worker}")
    assert len(per_worker) == 2
    assert all(count > 0 for count in per_worker.values()), per_worker


def test_spark_connect_gives_duckdbs_rows_and_reruns_replace_exactly_their_days(
    world: Path, java: Path, spark_connect: ConnectServer, tmp_path: Path
) -> None:
    db = tmp_path / "identity.duckdb"
    shutil.copy(world / "identity.duckdb", db)
    lake = tmp_path / "lake"
    env = {"SPARK_REMOTE": spark_connect.url, "IDENTITY_PIPELINE_LAKE": str(lake)}
    report = run_on_spark(java, env, publish(db, lake, WINDOW), WINDOW, tmp_path / "out")
    assert report["connect"]
    assert_same_outputs(db, lake, tmp_path / "out", report)

    # New facts for two days: one day's conversions withdrawn, the next day's impressions
    # doubled in cost and moved to another campaign. Rerun only those two days on both
    # engines, from a new snapshot version; every other day must stay as it was.
    changed = DayWindow(date(2025, 5, 3), date(2025, 5, 5))
    with connect(db) as con:
        con.execute("DELETE FROM conversions WHERE day = ?", [changed.start])
        con.execute(
            "UPDATE impressions SET campaign_id = 'cmp-moved' WHERE day = ?",
            [changed.start + timedelta(days=1)],
        )
    attribute_on_duckdb(db, changed)
    first_snapshot = latest_snapshot(str(lake), SNAPSHOT)
    second_snapshot = publish(db, lake, changed)
    assert second_snapshot != first_snapshot
    rerun = run_on_spark(java, env, second_snapshot, changed, tmp_path / "rerun")
    assert rerun["attributed_rows"] > 0
    for table in OUTPUTS:
        expected, expected_types = table_rows(db, table)
        actual, _ = lake_rows(lake, table, [name for name, _ in expected_types])
        assert actual == expected, table
    rows, _ = table_rows(db, "attributed_conversions")
    assert not [r for r in rows if r[0] == changed.start]
