"""A lake at a URI, written and read by a real Spark session (Spark Connect on 127.0.0.1, and
a classic local master in a child process): commit records, exact day ranges, clear errors.

The URI is file:// (s3a:// and hdfs:// need a network and jars this machine has not); the code
under test makes no file-system call of its own, so any scheme the cluster reads works alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from identity_pipeline.dev.spark_processes import ConnectServer, java_home
from identity_pipeline.engine.lake import COMMITS, SNAPSHOTS, LakeError, SparkLake, open_lake
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline_tests.dagster_processes import PROJECT

pytestmark = pytest.mark.integration


@pytest.fixture
def spark(spark_connect: ConnectServer) -> Iterator[SparkResource]:
    resource = SparkResource(remote=spark_connect.url)
    try:
        yield resource
    finally:
        resource.stop()


def lake_at(tmp_path: Path, spark: SparkResource) -> SparkLake:
    lake = open_lake(f"file://{tmp_path / 'lake'}", spark.session)
    assert isinstance(lake, SparkLake)
    return lake


def test_a_reader_takes_the_newest_committed_snapshot(tmp_path: Path, spark: SparkResource) -> None:
    lake = lake_at(tmp_path, spark)
    assert not lake.has_snapshot("inputs")
    with pytest.raises(FileNotFoundError, match="no published snapshot 'inputs'"):
        lake.latest_snapshot("inputs")
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE a AS SELECT range AS x, TIMESTAMP '2025-05-01 10:00:00' AS ts, "
            "CAST(1.5 AS DECIMAL(12, 2)) AS v FROM range(3)"
        )
        con.execute("CREATE TABLE b AS SELECT 'v' AS y WHERE false")  # no rows: still a table
        first = lake.publish_snapshot(con, "inputs", ["a", "b"])
        assert lake.latest_snapshot("inputs") == f"{lake.uri}/{SNAPSHOTS}/inputs/{first}"

        # A publish that fails half-way (table c does not exist) writes no commit record.
        con.execute("INSERT INTO a VALUES (3, TIMESTAMP '2025-05-02 00:00:00', 2)")
        with pytest.raises(duckdb.CatalogException):
            lake.publish_snapshot(con, "inputs", ["a", "c"])
        assert lake.latest_snapshot("inputs").endswith(first)

        second = lake.publish_snapshot(con, "inputs", ["a", "b"])
        assert second > first and lake.latest_snapshot("inputs").endswith(second)

        root = tmp_path / "lake" / SNAPSHOTS / "inputs"
        # Tables written but never committed (a writer that died before its record) are
        # not picked, even though their version sorts last.
        staged = root / "99991231T000000000000Z-deadbeef"
        staged.mkdir()
        (staged / "a.parquet").mkdir()
        assert lake.latest_snapshot("inputs").endswith(second)

        commits = sorted(p.name for p in (root / COMMITS).iterdir())
        assert commits == [f"version={first}", f"version={second}"]
        newest = root / second
        assert con.execute(f"SELECT count(*) FROM '{newest}/a.parquet/*.parquet'").fetchone() == (
            4,
        )
        assert con.execute(f"SELECT count(*) FROM '{newest}/b.parquet/*.parquet'").fetchone() == (
            0,
        )
        types = con.execute(f"DESCRIBE SELECT * FROM '{newest}/a.parquet/*.parquet'").fetchall()
        assert [(name, kind) for name, kind, *_ in types] == [
            ("x", "BIGINT"),
            ("ts", "TIMESTAMP"),  # naive on both sides: Spark's TIMESTAMP_NTZ
            ("v", "DECIMAL(12,2)"),
        ]


def test_a_day_range_is_replaced_exactly_and_loaded_back(
    tmp_path: Path, spark: SparkResource
) -> None:
    lake = lake_at(tmp_path, spark)
    read = (
        f"SELECT day, count(*) FROM read_parquet('{tmp_path}/lake/events/day=*/*.parquet', "
        "hive_partitioning = true, hive_types = {'day': 'DATE'}) GROUP BY day ORDER BY day"
    )
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE events AS SELECT DATE '2025-05-01' + CAST(range % 3 AS INTEGER) AS day, "
            "range AS n FROM range(9)"
        )
        counts = lake.publish_days(con, "events", date(2025, 5, 1), date(2025, 5, 4))
        assert counts == {date(2025, 5, d): 3 for d in (1, 2, 3)}
        con.execute("DELETE FROM events WHERE day = DATE '2025-05-02'")
        con.execute("INSERT INTO events VALUES (DATE '2025-05-03', 100)")
        con.execute("DELETE FROM events WHERE day = DATE '2025-05-01'")  # outside the rerun
        lake.publish_days(con, "events", date(2025, 5, 2), date(2025, 5, 4))
        assert con.execute(read).fetchall() == [(date(2025, 5, 1), 3), (date(2025, 5, 3), 4)]
        # 05-02 has no rows now, but a schema-only file: the day is published, and empty.
        assert lake.missing_days("events", date(2025, 4, 30), date(2025, 5, 5)) == [
            date(2025, 4, 30),
            date(2025, 5, 4),
        ]
        assert lake.missing_days("never_published", date(2025, 5, 1), date(2025, 5, 2)) == [
            date(2025, 5, 1)
        ]

        con.execute("CREATE TABLE copy AS SELECT * FROM events WHERE n < 0")
        con.execute("INSERT INTO copy VALUES (DATE '2025-05-02', 42), (DATE '2025-05-09', 7)")
        (tmp_path / "lake" / "copy").symlink_to(tmp_path / "lake" / "events")
        assert lake.load_days(con, "copy", date(2025, 5, 1), date(2025, 5, 4)) == 7
        assert con.execute("SELECT * FROM copy ORDER BY ALL").fetchall() == [
            *[(date(2025, 5, 1), n) for n in (0, 3, 6)],
            *[(date(2025, 5, 3), n) for n in (2, 5, 8, 100)],
            (date(2025, 5, 9), 7),  # outside the range: untouched; 05-02 (empty) replaced
        ]
        with pytest.raises(FileNotFoundError, match=r"day\(s\) \[datetime.date\(2025, 5, 4\)"):
            lake.load_days(con, "copy", date(2025, 5, 3), date(2025, 5, 5))
        assert con.execute("SELECT count(*) FROM copy").fetchone() == (8,)


def test_a_scheme_the_cluster_cannot_read_names_the_lake_without_secrets(
    spark: SparkResource,
) -> None:
    lake = open_lake("nosuchfs://reader:hunter2@bucket/lake?sig=token", spark.session)
    with duckdb.connect() as con:
        con.execute("CREATE TABLE events AS SELECT DATE '2025-05-01' AS day, 1 AS n")
        with pytest.raises(LakeError) as raised:
            lake.publish_days(con, "events", date(2025, 5, 1), date(2025, 5, 2))
    message = str(raised.value)
    assert message.startswith("lake nosuchfs://***@bucket/lake: writing table events day")
    assert "nosuchfs" in message.split("failed:", 1)[1]  # Spark's own reason follows
    assert "hunter2" not in message and "token" not in message


CLASSIC = textwrap.dedent(
    """
    import sys
    from datetime import date
    import duckdb
    from identity_pipeline.engine.lake import LakeError, open_lake
    from identity_pipeline.engine.spark import SparkResource

    spark = SparkResource(master="local[1]", conf={"spark.ui.enabled": "false"})
    lake = open_lake(sys.argv[1], spark.session)
    with duckdb.connect() as con:
        con.execute("CREATE TABLE events AS SELECT DATE '2025-05-01' AS day, range AS n "
                    "FROM range(5)")
        assert lake.publish_days(con, "events", date(2025, 5, 1), date(2025, 5, 3)) == {
            date(2025, 5, 1): 5}
        version = lake.publish_snapshot(con, "inputs", ["events"])
        assert lake.latest_snapshot("inputs").endswith(version)
        assert lake.load_days(con, "events", date(2025, 5, 1), date(2025, 5, 3)) == 5
        try:
            open_lake("nosuchfs://bucket/lake", spark.session).missing_days(
                "events", date(2025, 5, 1), date(2025, 5, 2))
        except LakeError as error:
            print(error)
    spark.stop()
    print("ok", version)
    """
)


def test_a_uri_lake_works_with_a_classic_local_master(java: Path, tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": java_home(java)}
    env = {k: v for k, v in env.items() if not k.startswith(("SPARK_", "IDENTITY_PIPELINE_"))}
    done = subprocess.run(
        [sys.executable, "-c", CLASSIC, f"file://{tmp_path / 'lake'}"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("ok ")
    assert lines[-2].startswith("lake nosuchfs://bucket/lake: listing table events failed:")
    assert 'No FileSystem for scheme "nosuchfs"' in lines[-2]
    version = lines[-1].split()[1]
    assert (tmp_path / "lake" / SNAPSHOTS / "inputs" / COMMITS / f"version={version}").is_dir()
    assert (tmp_path / "lake" / "events" / "day=2025-05-02").is_dir()  # empty day, empty file
