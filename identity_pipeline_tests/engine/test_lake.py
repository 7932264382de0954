"""What DuckDB publishes for Spark: snapshot versions behind a LATEST pointer, day partitions."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from identity_pipeline.engine.lake import (
    LocalLake,
    SparkLake,
    latest_snapshot,
    load_days,
    missing_days,
    open_lake,
    publish_days,
    publish_snapshot,
    redact,
)
from identity_pipeline.engine.state import SNAPSHOT, SNAPSHOT_TABLES, publish_state
from identity_pipeline.warehouse import connect


def test_latest_names_the_newest_complete_snapshot(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(FileNotFoundError, match="no published snapshot 'inputs'"):
        latest_snapshot(str(lake), "inputs")
    with duckdb.connect() as con:
        con.execute("CREATE TABLE a AS SELECT range AS x FROM range(3)")
        con.execute("CREATE TABLE b AS SELECT 'v' AS y")
        first = publish_snapshot(con, lake, "inputs", ["a", "b"])
        assert latest_snapshot(str(lake), "inputs") == f"{lake}/_snapshots/inputs/{first}"
        con.execute("INSERT INTO a VALUES (3)")
        # A publish that fails half-way (table c does not exist) leaves LATEST where it was.
        with pytest.raises(duckdb.CatalogException):
            publish_snapshot(con, lake, "inputs", ["a", "c"])
        assert latest_snapshot(str(lake), "inputs").endswith(first)
        second = publish_snapshot(con, lake, "inputs", ["a", "b"])
        newest = latest_snapshot(str(lake), "inputs")
        assert newest.endswith(second) and second != first
        assert con.execute(f"SELECT count(*) FROM '{newest}/a.parquet'").fetchone() == (4,)
        assert con.execute(
            f"SELECT count(*) FROM '{lake}/_snapshots/inputs/{first}/a.parquet'"
        ).fetchone() == (3,)
    visible = sorted(p.name for p in (lake / "_snapshots" / "inputs").iterdir())
    assert visible == sorted(["LATEST", first, second])  # the failed attempt left nothing


def test_publishing_a_day_range_replaces_exactly_those_days(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    read = (
        f"SELECT day, count(*) FROM read_parquet('{lake}/events/day=*/*.parquet', "
        "hive_partitioning = true, hive_types = {'day': 'DATE'}) GROUP BY day ORDER BY day"
    )
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE events AS SELECT DATE '2025-05-01' + CAST(range % 3 AS INTEGER) AS day, "
            "range AS n FROM range(9)"
        )
        counts = publish_days(con, lake, "events", date(2025, 5, 1), date(2025, 5, 4))
        assert counts == {date(2025, 5, d): 3 for d in (1, 2, 3)}
        con.execute("DELETE FROM events WHERE day = DATE '2025-05-02'")
        con.execute("INSERT INTO events VALUES (DATE '2025-05-03', 100)")
        con.execute("DELETE FROM events WHERE day = DATE '2025-05-01'")  # outside the rerun
        publish_days(con, lake, "events", date(2025, 5, 2), date(2025, 5, 4))
        assert con.execute(read).fetchall() == [(date(2025, 5, 1), 3), (date(2025, 5, 3), 4)]
    days = sorted(p.name for p in (lake / "events").iterdir())
    assert days == ["day=2025-05-01", "day=2025-05-02", "day=2025-05-03"]  # 05-02 is empty


def test_loading_days_back_replaces_exactly_those_days_in_duckdb(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE events AS SELECT DATE '2025-05-01' + CAST(range % 3 AS INTEGER) AS day, "
            "range AS n FROM range(9)"
        )
        publish_days(con, lake, "events", date(2025, 5, 1), date(2025, 5, 4))
        con.execute("CREATE TABLE copy AS SELECT * FROM events WHERE n < 0")
        con.execute("INSERT INTO copy VALUES (DATE '2025-05-02', 42), (DATE '2025-05-09', 7)")
        (lake / "copy").symlink_to(lake / "events")
        assert load_days(con, lake, "copy", date(2025, 5, 1), date(2025, 5, 3)) == 6
        assert con.execute("SELECT * FROM copy ORDER BY ALL").fetchall() == [
            *[(date(2025, 5, 1), n) for n in (0, 3, 6)],
            *[(date(2025, 5, 2), n) for n in (1, 4, 7)],
            (date(2025, 5, 9), 7),  # outside the range: untouched
        ]
        assert missing_days(lake, "copy", date(2025, 5, 2), date(2025, 5, 6)) == [
            date(2025, 5, 4),
            date(2025, 5, 5),
        ]
        with pytest.raises(FileNotFoundError, match=r"day\(s\) \[datetime.date\(2025, 5, 4\)"):
            load_days(con, lake, "copy", date(2025, 5, 3), date(2025, 5, 5))
        assert con.execute("SELECT count(*) FROM copy").fetchone() == (7,)


def test_a_plain_path_is_written_by_duckdb_and_any_uri_by_spark(tmp_path: Path) -> None:
    assert isinstance(open_lake(str(tmp_path)), LocalLake)
    assert open_lake(tmp_path).uri == str(tmp_path)

    def no_session() -> None:
        raise AssertionError("a lake must not start a session before it is used")

    for uri in (f"file://{tmp_path}", "s3a://bucket/lake", "hdfs://namenode:8020/lake"):
        lake = open_lake(uri, no_session)  # type: ignore[arg-type]
        assert isinstance(lake, SparkLake) and lake.uri == uri
    with pytest.raises(ValueError, match="s3a://bucket/lake is a URI: the Spark session"):
        open_lake("s3a://bucket/lake")


def test_credentials_never_appear_in_lake_messages() -> None:
    assert redact("abfss://box:s3cret@acct.dfs.core.windows.net/lake") == (
        "abfss://***@acct.dfs.core.windows.net/lake"
    )
    assert redact("Path does not exist: wasbs://c@a.blob/lake/t?sig=abc&se=2030 (x)") == (
        "Path does not exist: wasbs://c@a.blob/lake/t (x)"
    )
    with pytest.raises(ValueError) as raised:
        open_lake("s3a://AKIAKEY:topsecret@bucket/lake")
    assert "topsecret" not in str(raised.value) and "s3a://***@bucket/lake" in str(raised.value)


def test_state_is_published_to_the_lake_only_on_the_spark_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDENTITY_PIPELINE_ENGINE", raising=False)
    monkeypatch.setenv("IDENTITY_PIPELINE_LAKE", str(tmp_path / "lake"))
    with duckdb.connect() as con:
        assert publish_state(con) == {}
    assert not (tmp_path / "lake").exists()
    monkeypatch.setenv("IDENTITY_PIPELINE_ENGINE", "spark")
    with connect(tmp_path / "identity.duckdb") as con:
        version = publish_state(con)["lake_snapshot"]
    snapshot = latest_snapshot(str(tmp_path / "lake"), SNAPSHOT)
    assert snapshot.endswith(version)
    assert sorted(p.name for p in Path(snapshot).iterdir()) == sorted(
        f"{table}.parquet" for table in SNAPSHOT_TABLES
    )


def test_a_uri_lake_needs_the_spark_resource_to_publish_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_PIPELINE_ENGINE", "spark")
    monkeypatch.setenv("IDENTITY_PIPELINE_LAKE", "s3a://reader:pa55@bucket/lake")
    expected = r"s3a://\*\*\*@bucket/lake is a URI"
    with (
        connect(tmp_path / "identity.duckdb") as con,
        pytest.raises(ValueError, match=expected) as raised,
    ):
        publish_state(con)
    assert "pa55" not in str(raised.value)


def test_days_are_published_in_groups_of_whole_days() -> None:
    from identity_pipeline.engine.lake import _day_groups

    counts = {date(2025, 5, d): n for d, n in ((1, 4), (2, 5), (4, 1), (5, 20), (6, 2))}
    assert _day_groups(counts, 10) == [
        [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 4)],
        [date(2025, 5, 5)],  # over the limit: alone (written in batches)
        [date(2025, 5, 6)],
    ]
    assert _day_groups({}, 10) == []
