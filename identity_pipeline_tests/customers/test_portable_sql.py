"""The scoring SELECTs stay portable: one statement each, convertible to Spark SQL by the
engine's dialect (named parameters, no DuckDB-only functions left behind)."""

import pytest

from identity_pipeline.customers.scoring import SQL_PACKAGE
from identity_pipeline.engine.dialect import SPARK
from identity_pipeline.warehouse import select_sql

SELECTS = (
    "select_customer_spend_by_currency.sql",
    "select_customer_metrics.sql",
    "select_customer_value.sql",
    "select_customer_segments.sql",
)


@pytest.mark.parametrize("name", SELECTS)
def test_each_select_converts_to_spark_sql(name: str) -> None:
    spark_sql = SPARK.transpile(select_sql(SQL_PACKAGE, name))
    assert "$" not in spark_sql
    assert ":scored_at" in spark_sql or name == "select_customer_spend_by_currency.sql"
    for duckdb_only in ("EPOCH(", "STRPOS(", "::"):
        assert duckdb_only not in spark_sql.upper()


def test_spark_gets_its_own_names_for_the_time_and_text_functions() -> None:
    spark_sql = SPARK.transpile(select_sql(SQL_PACKAGE, "select_customer_metrics.sql"))
    assert "UNIX_TIMESTAMP(" in spark_sql
    assert "LOCATE(" in spark_sql
