"""Attribution on the Spark engine: the same portable SELECTs as compute.py, run by Spark.

The caller registers the inputs first (register_inputs): the identity tables from one
published snapshot, impressions and conversions from the lake's day partitions. Outputs are
day-partitioned Parquet tables in the lake; re-running a day range replaces exactly those
days. Only the narrow operations differ from DuckDB (see identity_pipeline.engine.spark); the
SQL is the files compute.py runs.

The assets call run_attributed_conversions and run_campaign_attribution: they make sure the
lake holds the run's inputs, run the SELECT on Spark, and load the window's output days back
into the DuckDB table the DuckDB path writes, so every reader sees the same tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from identity_pipeline.attribution.compute import (
    DEFAULT_LOOKBACK_DAYS,
    DELIVERY,
    LOOKUP,
    SQL_PACKAGE,
    AttributionStats,
    DayWindow,
    attribution_stats,
)
from identity_pipeline.engine.lake import Lake, open_lake
from identity_pipeline.engine.schema import spark_columns
from identity_pipeline.engine.spark import SparkEngine, SparkResource
from identity_pipeline.engine.state import SNAPSHOT, SNAPSHOT_TABLES
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.warehouse import select_sql

LAKE_TABLES = ("impressions", "conversions")
"""What attribution reads from the lake's day partitions (engine.lake.publish_days)."""


def build_id_lookup(engine: SparkEngine, impression_days: DayWindow) -> int:
    """Cached view attr_id_lookup for the ids in those impression days; returns its size."""
    params = {"impressions_from": impression_days.start, "impressions_to": impression_days.end}
    return engine.build_cached_lookup(
        LOOKUP, select_sql(SQL_PACKAGE, "select_id_lookup.sql"), params
    )


@dataclass(frozen=True)
class Written:
    """What one Spark SELECT wrote: rows in the window's days, and the id lookup's size."""

    rows: int
    lookup_ids: int


def attribute_conversions(
    engine: SparkEngine, window: DayWindow, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> Written:
    """Replace the window's days of the lake's attributed_conversions."""
    if lookback_days < 0:
        raise ValueError("lookback_days cannot be negative")
    impression_days = window.widened(lookback_days)
    params = {
        "window_start": window.start,
        "window_end": window.end,
        "impressions_from": impression_days.start,
        "lookback_days": lookback_days,
    }
    lookup_ids = build_id_lookup(engine, impression_days)
    try:
        rows = _replace_window(engine, "attributed_conversions", window, params)
    finally:
        engine.drop_lookup(LOOKUP)
    return Written(rows, lookup_ids)


def summarize_campaigns(engine: SparkEngine, window: DayWindow) -> Written:
    """Replace the window's days of the lake's campaign_attribution.

    Reads the lake's attributed_conversions, so run attribute_conversions for the window first.
    The campaign delivery (select_campaign_delivery.sql over an id lookup of the window's
    days) is cached as campaign_delivery for select_campaign_attribution.sql, as compute.py
    gives it to DuckDB.
    """
    engine.register_table("attributed_conversions", spark_columns("attributed_conversions"))
    params = {"window_start": window.start, "window_end": window.end}
    lookup_ids = build_id_lookup(engine, window)
    try:
        engine.build_cached_lookup(
            DELIVERY, select_sql(SQL_PACKAGE, "select_campaign_delivery.sql"), params
        )
        rows = _replace_window(engine, "campaign_attribution", window, params)
    finally:  # a Spark Connect view's plan still names the lookup: drop it last
        engine.drop_lookup(DELIVERY)
        engine.drop_lookup(LOOKUP)
    return Written(rows, lookup_ids)


def _replace_window(
    engine: SparkEngine, table: str, window: DayWindow, params: Mapping[str, object]
) -> int:
    """Run select_<table>.sql and make the window's days of the lake's `table` hold its rows;
    returns their count."""
    frame = engine.select(select_sql(SQL_PACKAGE, f"select_{table}.sql"), params)
    per_day = engine.replace_days(table, frame, window.start, window.end, spark_columns(table))
    return sum(per_day.values())


def register_inputs(engine: SparkEngine, snapshot_uri: str) -> None:
    """Identity tables from one snapshot version (<snapshot_uri>/<table>.parquet), and
    impressions and conversions from the lake's day partitions."""
    for table in SNAPSHOT_TABLES:
        engine.register_input(table, f"{snapshot_uri}/{table}.parquet", spark_columns(table))
    for table in LAKE_TABLES:
        engine.register_table(table, spark_columns(table))


def stage_inputs(
    warehouse: DuckDBWarehouse, lake: Lake, wanted: Mapping[str, DayWindow]
) -> list[str]:
    """Publish from DuckDB what the lake lacks for a run: days of the `wanted` tables never
    published (say, landed before the engine was switched), and a first snapshot if no
    mapping or opt-out run has published one yet. Days already in the lake are left as the
    assets published them. Returns what was published."""
    gaps = {t: lake.missing_days(t, w.start, w.end) for t, w in wanted.items()}
    no_snapshot = not lake.has_snapshot(SNAPSHOT)
    published = [f"{len(days)} {table} day(s)" for table, days in gaps.items() if days]
    if not no_snapshot and not published:
        return published
    with warehouse.connect() as con:
        for table, days in gaps.items():
            for day in days:
                lake.publish_days(con, table, day, day + timedelta(days=1))
        if no_snapshot:
            published.append(f"snapshot {lake.publish_snapshot(con, SNAPSHOT, SNAPSHOT_TABLES)}")
    return published


@dataclass(frozen=True)
class SparkStep:
    """What an attribution step on Spark did, for its materialization's metadata."""

    written: Written
    snapshot: str
    staged: list[str]
    target: str

    def metadata(self) -> dict[str, str]:
        return {
            "engine": "spark",
            "spark": self.target,
            "lake_snapshot": self.snapshot.rsplit("/", 1)[-1],
            "lake_inputs_published": ", ".join(self.staged) or "none",
        }


def _run(
    warehouse: DuckDBWarehouse,
    spark: SparkResource,
    table: str,
    window: DayWindow,
    inputs: Mapping[str, DayWindow],
    write: Callable[[SparkEngine], Written],
) -> SparkStep:
    """Stage the lake's `inputs`, register one snapshot (the same for every step of the run),
    run `write` on Spark, and load the window's days of `table` back into DuckDB."""
    settings = spark.settings
    lake = open_lake(settings.lake, spark.session)
    staged = stage_inputs(warehouse, lake, {"conversions": window, **inputs})
    snapshot = spark.pinned(SNAPSHOT, lambda: lake.latest_snapshot(SNAPSHOT))
    engine = spark.engine()
    register_inputs(engine, snapshot)
    written = write(engine)
    with warehouse.connect() as con:
        lake.load_days(con, table, window.start, window.end)
    return SparkStep(written, snapshot, staged, settings.target)


def run_attributed_conversions(
    warehouse: DuckDBWarehouse, spark: SparkResource, window: DayWindow, lookback_days: int
) -> tuple[AttributionStats, SparkStep]:
    """The attributed_conversions asset on Spark: the lake's days and DuckDB's table replaced
    for the window; the same figures as the DuckDB path, from the loaded rows."""
    step = _run(
        warehouse,
        spark,
        "attributed_conversions",
        window,
        {"impressions": window.widened(lookback_days)},
        lambda engine: attribute_conversions(engine, window, lookback_days),
    )
    with warehouse.connect() as con:
        stats = attribution_stats(con, window, step.written.lookup_ids)
    return stats, step


def run_campaign_attribution(
    warehouse: DuckDBWarehouse, spark: SparkResource, window: DayWindow
) -> SparkStep:
    """The campaign_attribution asset on Spark. It reads the lake's attributed_conversions:
    days the lake lacks (say, attributed on DuckDB before the switch) come from DuckDB."""
    return _run(
        warehouse,
        spark,
        "campaign_attribution",
        window,
        {"impressions": window, "attributed_conversions": window},
        lambda engine: summarize_campaigns(engine, window),
    )
