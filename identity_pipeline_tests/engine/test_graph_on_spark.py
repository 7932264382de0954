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

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from identity_pipeline import cli, settings
from identity_pipeline.definitions import defs
from identity_pipeline.dev.events import generate_events
from identity_pipeline.dev.spark_processes import ConnectServer
from identity_pipeline.engine.lake import latest_snapshot
from identity_pipeline.engine.state import SNAPSHOT
from identity_pipeline_tests.engine.test_assets_on_spark import (
    NOW,
    engine_envs,
    latest_metadata,
    run,
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


def linking_events(db: Path, pairs: int = 5) -> list[dict[str, object]]:
    """Events that each give one person's anonymous ID another person's email: merges. The
    raw emails come from raw_events (where raw values live) and go only into a landed file."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT g.person_id, min(r.anonymous_id), min(r.email)
            FROM raw_events AS r
            JOIN identity_graph AS g ON g.id_type = 'anonymous_id' AND g.id_value = r.anonymous_id
            WHERE r.email IS NOT NULL
            GROUP BY g.person_id ORDER BY g.person_id LIMIT $n
            """,
            {"n": 2 * pairs},
        ).fetchall()
    assert len(rows) == 2 * pairs
    return [
        {
            "event_id": f"link-{n}",
            "created_at": f"2025-06-11T12:0{n}:00Z",
            "platform": "web",
            "anonymous_id": rows[2 * n][1],
            "email": rows[2 * n + 1][2],
            "valuation_properties": {"action": "login", "properties": {}},
        }
        for n in range(pairs)
    ]


def land_later_batch(root: Path, linking: list[dict[str, object]]) -> None:
    """The second generated batch, and the events that merge persons."""
    events = root / "landing" / "events"
    for path in sorted((root / "later" / "events").iterdir()):
        shutil.copy(path, events / f"later-{path.name}")
    lines = "".join(json.dumps(event) + "\n" for event in linking)
    (events / "later-links.jsonl").write_text(lines, encoding="utf-8")


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
    duck_env, spark_env = engine_envs(on_duckdb, on_spark, spark_connect, java)
    duck_db, spark_db = on_duckdb / "identity.duckdb", on_spark / "identity.duckdb"

    for batch in ("first", "second"):
        if batch == "second":
            linking = linking_events(duck_db)
            land_later_batch(on_duckdb, linking)
            land_later_batch(on_spark, linking)
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
    assert sizes["person_merges"] >= 5  # the linking events merged persons, equally on both
