"""identity_graph_refresh on the Spark engine writes what the default engine writes.

Generated contacts and events (the `generate` command) are copied twice. Each copy runs
`identity-pipeline run identity_graph_refresh` in child processes configured only by the
environment: the default engine, and IDENTITY_PIPELINE_ENGINE=spark against a Spark Connect
server on 127.0.0.1, where the graph's connected components run. A second, incremental batch
of events follows on both. The graph, its persons and the tables built on them must be equal
row for row (person UUIDs included), the materializations must say which engine ran them, the
spark run must publish the new graph to the lake's snapshot, and the default engine must never
import pyspark.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from identity_pipeline import cli, settings
from identity_pipeline.definitions import defs
from identity_pipeline.dev.events import generate_events
from identity_pipeline.dev.spark_processes import ConnectServer, java_home
from identity_pipeline.engine.lake import latest_snapshot
from identity_pipeline.engine.state import SNAPSHOT
from identity_pipeline_tests.engine.test_assets_on_spark import (
    NOW,
    latest_metadata,
    run,
    run_env,
)

pytestmark = pytest.mark.integration

JOB = "identity_graph_refresh"
CONTACTS = 600
TABLES = {
    # table: columns left out (when a run wrote the row, not what it holds)
    "identity_identifiers": (),
    "identity_links": (),
    "identity_hubs": ("first_detected_at", "detected_at"),
    "identity_graph": ("updated_at",),
    "identity_persons": ("updated_at",),
    "person_merges": ("recorded_at",),
    "persons": ("updated_at",),
    "person_journal": (),
}


def generate_world(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Contacts ingested, a first batch of events landed, a second one kept aside."""
    monkeypatch.setenv(settings.ENV_DB, str(root / "identity.duckdb"))
    monkeypatch.setenv(settings.ENV_LANDING, str(root / "landing"))
    monkeypatch.setenv(settings.ENV_NOW, NOW)
    argv = ["generate", "--rows", str(CONTACTS), "--events", "3000", "--seed", "23"]
    assert cli.main([*argv, "--out", str(root / "landing")]) == 0
    with DagsterInstance.ephemeral() as instance:
        assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    generate_events(800, root / "later", seed=24, contacts_rows=CONTACTS, contacts_seed=23)


def land_later_batch(root: Path) -> None:
    for path in sorted((root / "later" / "events").iterdir()):
        shutil.copy(path, root / "landing" / "events" / f"later-{path.name}")


def table_rows(db: Path, table: str, skip: tuple[str, ...]) -> list[tuple[object, ...]]:
    columns = f"* EXCLUDE ({', '.join(skip)})" if skip else "*"
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()


def assert_same_tables(duck_db: Path, spark_db: Path) -> dict[str, int]:
    sizes = {}
    for table, skip in TABLES.items():
        expected = table_rows(duck_db, table, skip)
        assert table_rows(spark_db, table, skip) == expected, table
        sizes[table] = len(expected)
    return sizes


def test_identity_graph_refresh_on_spark_connect_writes_what_duckdb_writes(
    java: Path, spark_connect: ConnectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = tmp_path / "world"
    generate_world(world, monkeypatch)
    on_duckdb = Path(shutil.copytree(world, tmp_path / "duckdb"))
    on_spark = Path(shutil.copytree(world, tmp_path / "spark"))
    lake = on_spark / "lake"
    duck_env = run_env(on_duckdb, IDENTITY_PIPELINE_LAKE=str(on_duckdb / "lake"))
    spark_env = run_env(
        on_spark,
        IDENTITY_PIPELINE_ENGINE="spark",
        SPARK_REMOTE=spark_connect.url,
        IDENTITY_PIPELINE_LAKE=str(lake),
        JAVA_HOME=java_home(java),
    )
    duck_db, spark_db = on_duckdb / "identity.duckdb", on_spark / "identity.duckdb"

    for batch in ("first", "second"):
        if batch == "second":
            land_later_batch(on_duckdb)
            land_later_batch(on_spark)
        loaded = run(duck_env, JOB, log=tmp_path / f"duck-{batch}.log")
        assert loaded == "spark modules: []", batch
        loaded = run(spark_env, JOB, log=tmp_path / f"spark-{batch}.log")
        assert loaded == "spark modules: ['pyspark', 'sqlglot']", batch
        sizes = assert_same_tables(duck_db, spark_db)
        print(f"{batch} batch, equal rows: {sizes}")
        assert sizes["identity_graph"] > 1_000 and sizes["persons"] > 100, sizes

        duck_meta = latest_metadata(on_duckdb, "identity_graph")
        spark_meta = latest_metadata(on_spark, "identity_graph")
        assert duck_meta["engine"] == "duckdb" and "spark" not in duck_meta
        assert spark_meta["engine"] == "spark", spark_meta
        assert spark_meta["spark"] == spark_connect.url
        for key in ("events", "crm_links", "new_identifiers", "links", "persons", "new_hubs"):
            assert spark_meta[key] == duck_meta[key], key
        assert spark_meta["changes_by_reason"] == duck_meta["changes_by_reason"]

        # Attribution on Spark reads the graph from the lake: the run published it.
        snapshot = Path(latest_snapshot(str(lake), SNAPSHOT))
        assert spark_meta["lake_snapshot"] == snapshot.name
        published = duckdb.sql(
            f"SELECT id_type, id_value, person_id FROM '{snapshot / 'identity_graph.parquet'}' "
            "ORDER BY ALL"
        ).fetchall()
        graph = table_rows(spark_db, "identity_graph", ("id_key", "updated_at"))
        assert published == graph

    second = latest_metadata(on_spark, "identity_graph")
    assert second["events"] < 1_000  # only the new batch was stitched
    assert sizes["person_merges"] > 0, "the second batch should merge some persons"
