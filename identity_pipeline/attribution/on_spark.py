"""Attribution on the Spark engine: the same portable SELECTs as compute.py, run by Spark.

The caller registers the inputs first (register_inputs): the identity tables from one
published snapshot, impressions and conversions from the lake's day partitions. Outputs are
day-partitioned Parquet tables in the lake; re-running a day range replaces exactly those
days. Only the narrow operations differ from DuckDB (see identity_pipeline.engine.spark); the
SQL is the files compute.py runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from identity_pipeline.attribution.compute import DEFAULT_LOOKBACK_DAYS, SQL_PACKAGE, DayWindow
from identity_pipeline.attribution.tables import ATTRIBUTION_VIEWS, IDENTITY_TABLES
from identity_pipeline.engine.schema import spark_columns
from identity_pipeline.engine.spark import SparkEngine
from identity_pipeline.warehouse import select_sql

SNAPSHOT_TABLES = (*IDENTITY_TABLES, *ATTRIBUTION_VIEWS)
"""What attribution reads from one published snapshot (engine.lake.publish_snapshot); the
views (opted_out, person_dii, purchase_events) are copied as DuckDB computes them, so Spark
applies the one definition of who is opted out and who is whose person."""
LAKE_TABLES = ("impressions", "conversions")
"""What attribution reads from the lake's day partitions (engine.lake.publish_days)."""

LOOKUP = "attr_id_lookup"


def build_id_lookup(engine: SparkEngine, impression_days: DayWindow) -> int:
    """Cached view attr_id_lookup for the ids in those impression days; returns its size."""
    params = {"impressions_from": impression_days.start, "impressions_to": impression_days.end}
    return engine.build_cached_lookup(
        LOOKUP, select_sql(SQL_PACKAGE, "select_id_lookup.sql"), params
    )


def attribute_conversions(
    engine: SparkEngine, window: DayWindow, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> int:
    """Replace the window's days of the lake's attributed_conversions; returns its rows."""
    if lookback_days < 0:
        raise ValueError("lookback_days cannot be negative")
    impression_days = window.widened(lookback_days)
    params = {
        "window_start": window.start,
        "window_end": window.end,
        "impressions_from": impression_days.start,
        "lookback_days": lookback_days,
    }
    return _replace_window(engine, "attributed_conversions", window, impression_days, params)


def summarize_campaigns(engine: SparkEngine, window: DayWindow) -> int:
    """Replace the window's days of the lake's campaign_attribution; returns its rows.

    Reads the lake's attributed_conversions, so run attribute_conversions for the window first.
    """
    engine.register_table("attributed_conversions", spark_columns("attributed_conversions"))
    params = {"window_start": window.start, "window_end": window.end}
    return _replace_window(engine, "campaign_attribution", window, window, params)


def _replace_window(
    engine: SparkEngine,
    table: str,
    window: DayWindow,
    lookup_days: DayWindow,
    params: Mapping[str, object],
) -> int:
    """Run select_<table>.sql with the id lookup of `lookup_days` cached, and replace the
    window's days of the lake's `table` with its rows; returns how many were written."""
    build_id_lookup(engine, lookup_days)
    try:
        frame = engine.select(select_sql(SQL_PACKAGE, f"select_{table}.sql"), params)
        per_day = engine.replace_days(table, frame, window.start, window.end, spark_columns(table))
    finally:
        engine.drop_lookup(LOOKUP)
    return sum(per_day.values())


def register_inputs(engine: SparkEngine, snapshot_uri: str) -> None:
    """Identity tables from one snapshot version (<snapshot_uri>/<table>.parquet), and
    impressions and conversions from the lake's day partitions."""
    for table in SNAPSHOT_TABLES:
        engine.register_input(table, f"{snapshot_uri}/{table}.parquet", spark_columns(table))
    for table in LAKE_TABLES:
        engine.register_table(table, spark_columns(table))
