"""The warehouse state the Spark engine reads, published from DuckDB when it changes.

Mapping and opt-outs stay on DuckDB (they are bound by API limits, not compute). With
$IDENTITY_PIPELINE_ENGINE=spark, every run that changes who is who or who opted out (the
optouts, uid2_mapping, id5_mapping and identity_graph assets) ends by publishing a new
version of one snapshot of these tables to the lake (engine.lake); a Spark run reads the
newest complete version, so an opt-out learned after one snapshot is honoured by the next
attribution run. A lake on a plain path is written by DuckDB; a lake at a URI (s3a://,
hdfs://, file://) by the assets' lazy Spark session. With the default engine nothing is
published and nothing Spark-related is imported.
"""

from __future__ import annotations

import duckdb

from identity_pipeline.engine.config import engine_name, spark_settings
from identity_pipeline.engine.lake import open_lake
from identity_pipeline.engine.spark import SparkResource

IDENTITY_TABLES = (
    "dii",
    "customer_dii",
    "uid2_mapping",
    "id5_mapping",
    "id5_uid_history",
    "optouts",
    "identity_graph",
)
"""Unpartitioned identity, mapping and identity-graph tables attribution's id lookup and
person resolution read."""

ATTRIBUTION_VIEWS = ("opted_out", "person_dii", "purchase_events")
"""Views the attribution SQL reads (optouts/ and attribution/sql/create_views.sql)."""

SNAPSHOT = "attribution_inputs"
SNAPSHOT_TABLES = (*IDENTITY_TABLES, *ATTRIBUTION_VIEWS)
"""One snapshot version holds these; each view is copied as DuckDB computes it, so Spark
applies the one definition of who is opted out and who is whose person."""


def publish_state(
    con: duckdb.DuckDBPyConnection, spark: SparkResource | None = None
) -> dict[str, str]:
    """On the spark engine, publish a new snapshot version of SNAPSHOT_TABLES to the lake;
    returns metadata for the materialization that changed them (nothing on duckdb). A lake
    at a URI is written through `spark` (its session starts here, on the spark engine only)."""
    if engine_name() != "spark":
        return {}
    settings = spark.settings if spark is not None else spark_settings()
    lake = open_lake(settings.lake, spark.session if spark is not None else None)
    version = lake.publish_snapshot(con, SNAPSHOT, SNAPSHOT_TABLES)
    return {"lake_snapshot": version}
