"""The warehouse state the Spark engine reads, published from DuckDB when it changes.

Mapping and opt-outs stay on DuckDB (they are bound by API limits, not compute). With
$IDENTITY_PIPELINE_ENGINE=spark, every run that changes who is who or who opted out (the
optouts, uid2_mapping, id5_mapping and identity_graph assets) ends by publishing a new
version of one snapshot of these tables to the lake (engine.lake.publish_snapshot); a Spark
run reads the version LATEST names, so an opt-out learned after one snapshot is honoured by
the next attribution run. With the default engine nothing is published and nothing
Spark-related is imported.
"""

from __future__ import annotations

import duckdb

from identity_pipeline.engine.config import engine_name, spark_settings
from identity_pipeline.engine.lake import local_lake, publish_snapshot

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


def publish_state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """On the spark engine, publish a new snapshot version of SNAPSHOT_TABLES to the lake;
    returns metadata for the materialization that changed them (nothing on duckdb)."""
    if engine_name() != "spark":
        return {}
    version = publish_snapshot(con, local_lake(spark_settings().lake), SNAPSHOT, SNAPSHOT_TABLES)
    return {"lake_snapshot": version}
