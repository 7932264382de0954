"""The Spark SQL of each portable SELECT the Spark engine runs is pinned by a golden file:
attribution's, and the identity graph's connected components (select_cc_*.sql).

A sqlglot upgrade (or an edit of a select_*.sql file) that changes the Spark SQL fails here;
after reviewing the diff, rewrite the golden files with UPDATE_GOLDEN=1.
"""

import os
from pathlib import Path

import pytest
import sqlglot

from identity_pipeline.attribution.compute import SQL_PACKAGE
from identity_pipeline.engine.dialect import SPARK, SparkDialect
from identity_pipeline.identity_graph import sql_files as graph_sql
from identity_pipeline.warehouse import select_sql

GOLDEN = Path(__file__).parent / "golden"
SELECTS = (
    "select_id_lookup.sql",
    "select_attributed_conversions.sql",
    "select_campaign_delivery.sql",
    "select_campaign_attribution.sql",
)
GRAPH_SQL_FOLDER = Path(graph_sql.__file__).parent / "sql"
GRAPH_SELECTS = tuple(sorted(p.name for p in GRAPH_SQL_FOLDER.glob("select_cc_*.sql")))
"""Every file identity_graph.components runs on Spark (components_spark)."""


@pytest.mark.parametrize(
    ("package", "name"),
    [(SQL_PACKAGE, name) for name in SELECTS]
    + [(graph_sql.SQL_PACKAGE, name) for name in GRAPH_SELECTS],
)
def test_spark_sql_matches_its_golden_file(package: str, name: str) -> None:
    spark_sql = SPARK.transpile(select_sql(package, name)) + "\n"
    golden = GOLDEN / name.replace(".sql", ".spark.sql")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(spark_sql, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert spark_sql == golden.read_text(encoding="utf-8"), (
        f"the Spark SQL of {name} changed (sqlglot {sqlglot.__version__}); review the diff, "
        "then rewrite the golden file with UPDATE_GOLDEN=1"
    )


def test_every_connected_components_file_has_a_golden_file() -> None:
    assert len(GRAPH_SELECTS) == 7, GRAPH_SELECTS
    pinned = {p.name.replace(".spark.sql", ".sql") for p in GOLDEN.glob("select_cc_*.spark.sql")}
    assert pinned == set(GRAPH_SELECTS)


def test_spark_sql_keeps_duckdbs_semantics() -> None:
    """What the dialect must change: named parameters, null order, ROW_NUMBER's type."""
    converted = SPARK.transpile(
        "SELECT a, ROW_NUMBER() OVER (PARTITION BY a ORDER BY b, c DESC) AS n "
        "FROM t WHERE d >= CAST($from AS DATE)"
    )
    assert ":from" in converted and "$from" not in converted
    assert "ORDER BY b NULLS LAST, c DESC" in converted  # Spark's DESC default is NULLS LAST
    assert "CAST(ROW_NUMBER() OVER" in converted and "AS BIGINT) AS n" in converted
    # Already BIGINT: no second cast.
    twice = SPARK.transpile("SELECT CAST(ROW_NUMBER() OVER (ORDER BY a) AS BIGINT) AS n FROM t")
    assert twice.count("CAST(") == 1


def test_bind_keeps_the_named_parameters_and_rejects_missing_ones() -> None:
    sql = "SELECT x::INT FROM t WHERE d >= :window_start AND d < :window_end AND s = '12:30'"
    bound = SparkDialect.bind(sql, {"window_start": 1, "window_end": 2, "unused": 3})
    assert bound == {"window_start": 1, "window_end": 2}
    with pytest.raises(ValueError, match="window_end"):
        SparkDialect.bind(sql, {"window_start": 1})


def test_more_than_one_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="one SQL statement"):
        SPARK.transpile("SELECT 1; SELECT 2")
