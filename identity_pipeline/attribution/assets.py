"""Daily-partitioned attribution assets: impressions, conversions, attributed_conversions,
campaign_attribution.

Every asset rebuilds exactly its run's day range in one transaction, so re-materializing a day
(or a backfill range, which runs as one run) replaces it atomically. With
$IDENTITY_PIPELINE_ENGINE=spark the landed days are also published to the lake and the two
attribution assets run their SELECTs on Spark (on_spark.py), loading the window's days back
into the same DuckDB tables; every materialization says which engine ran it. Assets are built by a
factory because the partitions' start date and the lookback are deployment settings.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from identity_pipeline.attribution import on_spark
from identity_pipeline.attribution.compute import (
    DayWindow,
    attribute_conversions,
    replace_landed_days,
    summarize_campaigns,
)
from identity_pipeline.attribution.ingest import (
    CONVERSIONS,
    IMPRESSIONS,
    LandingKind,
    ingest_landed_files,
)
from identity_pipeline.attribution.report import campaign_table, day_figures, value_chart
from identity_pipeline.attribution.tables import EVENT_TABLES, IDENTITY_TABLES
from identity_pipeline.engine.config import engine_name
from identity_pipeline.engine.lake import open_lake
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

GROUP = "attribution"


def daily_partitions(start_date: str) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=start_date, timezone="UTC")


def window_of(context: AssetExecutionContext) -> DayWindow:
    """The run's UTC days: one partition, or a whole backfill range in a single run."""
    span = context.partition_time_window
    return DayWindow(span.start.date(), span.end.date())


@dataclass(frozen=True)
class _Run:
    """What every attribution asset's run starts with: its UTC days, the engine that runs its
    SQL ($IDENTITY_PIPELINE_ENGINE, read when the run starts) and its clock."""

    window: DayWindow
    engine: str
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, context: AssetExecutionContext) -> "_Run":
        return cls(window_of(context), engine_name())

    @property
    def on_spark(self) -> bool:
        return self.engine == "spark"

    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)


def _window_metadata(window: DayWindow, rows: int) -> dict[str, int | str]:
    """Row counts; dagster/partition_row_count only when the run is a single partition."""
    metadata: dict[str, int | str] = {
        "first_day": window.start.isoformat(),
        "days": window.days,
        "rows_in_run_days": rows,
    }
    if window.days == 1:
        metadata["dagster/partition_row_count"] = rows
    return metadata


def _engine_metadata(step: on_spark.SparkStep | None) -> dict[str, MetadataValue]:
    """Which engine ran the step (the UI shows it on every materialization), and on Spark
    where and from which snapshot."""
    ran = step.metadata() if step else {"engine": "duckdb"}
    return {key: MetadataValue.text(value) for key, value in ran.items()}


def _land(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    spark: SparkResource,
    kind: LandingKind,
    directory: Path,
) -> MaterializeResult[None]:
    run = _Run.of(context)
    with warehouse.connect() as con:
        report = ingest_landed_files(con, kind, directory)
        rows = replace_landed_days(con, kind.name, run.window)
        if run.on_spark:  # Spark reads the run's days from the lake
            lake = open_lake(spark.settings.lake, spark.session)
            lake.publish_days(con, kind.name, run.window.start, run.window.end)
    for message in report.files_failed:
        context.log.error(f"{kind.name} file not loaded: {message}")
    outside = sorted(d for d in report.days_touched if not run.window.start <= d < run.window.end)
    if outside:
        context.log.warning(
            f"files loaded now also hold {len(outside)} day(s) outside this run "
            f"({outside[0]}..{outside[-1]}); the landing sensor re-materializes them"
        )
    return MaterializeResult(
        metadata={
            "engine": run.engine,
            **_window_metadata(run.window, rows),
            **file_metadata(report),
            "rows_loaded": report.rows_loaded,
            "rows_rejected": report.rows_rejected,
            "seconds": run.seconds(),
        }
    )


def build_attribution_assets(
    partitions: DailyPartitionsDefinition, lookback_days: int
) -> list[AssetsDefinition]:
    """The four attribution assets over `partitions`, crediting `lookback_days` back."""
    # @asset over the day partitions, a backfill range in one run, in DuckDB
    daily_asset = partial(
        asset,
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb"},
    )

    def landed(
        kind: LandingKind, folder: Callable[[LandingArea], Path], description: str
    ) -> AssetsDefinition:
        @daily_asset(
            name=kind.name,
            description=description,
        )
        def landed_days(
            context: AssetExecutionContext,
            warehouse: DuckDBWarehouse,
            landing: LandingArea,
            spark: SparkResource,
        ) -> MaterializeResult[None]:
            return _land(context, warehouse, spark, kind, folder(landing))

        return landed_days

    impressions = landed(
        IMPRESSIONS,
        lambda landing: landing.impressions_dir,
        "Ad impressions per UTC day (impression_id, ts, campaign_id, id_type 'uid2'|'id5', id, "
        "cost) from landing impressions/ files; one row per impression_id.",
    )
    conversions = landed(
        CONVERSIONS,
        lambda landing: landing.conversions_dir,
        "Conversions per UTC day (conversion_id, ts, customer_id, email uid2_hash and/or ad id "
        "id_type/id, value, currency) from landing conversions/ files; one row per id.",
    )

    @daily_asset(
        deps=[
            AssetDep(
                impressions,
                partition_mapping=TimeWindowPartitionMapping(start_offset=-lookback_days),
            ),
            conversions,
            *IDENTITY_TABLES,
            *EVENT_TABLES,
        ],
        description=f"Each conversion (landed, or a purchase event) with its person's "
        f"impressions in the {lookback_days} days before it, on any identity of the person in "
        "the identity graph, resolved through current/previous UID2 and ID5 history; last-touch "
        "and linear credit. Opted-out identities and persons are never attributed.",
    )
    def attributed_conversions(
        context: AssetExecutionContext, warehouse: DuckDBWarehouse, spark: SparkResource
    ) -> MaterializeResult[None]:
        run = _Run.of(context)
        on_spark_step = None
        if run.on_spark:
            stats, on_spark_step = on_spark.run_attributed_conversions(
                warehouse, spark, run.window, lookback_days
            )
        else:
            # the campaign delivery is computed from this step's id lookup and kept only
            # when the run also materializes campaign_attribution (or selects everything)
            selection = context.run.asset_selection
            keep = selection is None or AssetKey("campaign_attribution") in selection
            with warehouse.connect() as con:
                stats = attribute_conversions(
                    con,
                    run.window,
                    lookback_days,
                    keep_delivery_for=context.run.run_id if keep else None,
                )
        rate = stats.attributed_conversions / stats.conversions if stats.conversions else 0.0
        context.log.info(
            f"{stats.attributed_conversions} of {stats.conversions} conversions attributed "
            f"({stats.touches} touches) for {run.window.start}..{run.window.end}"
        )
        return MaterializeResult(
            metadata={
                **_engine_metadata(on_spark_step),
                **_window_metadata(run.window, stats.touches),
                "conversions": stats.conversions,
                "attributed_conversions": stats.attributed_conversions,
                "attribution_rate": round(rate, 4),
                "conversion_value": round(stats.value, 2),
                "attributed_value_last_touch": round(stats.attributed_value, 2),
                "touches_by_match": MetadataValue.json(stats.touches_by_match),
                "touches_through_person": stats.touches_through_person,
                "purchase_event_conversions": stats.purchase_events,
                "lookup_ids": stats.lookup_ids,
                "lookback_days": lookback_days,
                "seconds": run.seconds(),
            }
        )

    @daily_asset(
        deps=[attributed_conversions, impressions, *IDENTITY_TABLES],
        description="Per campaign per UTC day: impressions, identities reached, conversions "
        "and attributed value (last touch and linear) of that day's conversions.",
    )
    def campaign_attribution(
        context: AssetExecutionContext, warehouse: DuckDBWarehouse, spark: SparkResource
    ) -> MaterializeResult[None]:
        run = _Run.of(context)
        on_spark_step = (
            on_spark.run_campaign_attribution(warehouse, spark, run.window)
            if run.on_spark
            else None
        )
        with warehouse.connect() as con:
            rows = (
                on_spark_step.written.rows
                if on_spark_step
                else summarize_campaigns(con, run.window, run_key=context.run.run_id)
            )
            per_day = day_figures(con, run.window.start, run.window.end)
            table = campaign_table(con, run.window.start, run.window.end)
            chart = value_chart(con, run.window.end)
        # Each partition (day) gets its own figures, so the Plots tab draws a trend across
        # partitions even when a backfill builds 30 days in one run.
        for day, figures in per_day.items():
            day_metadata: dict[str, MetadataValue] = {
                "dagster/partition_row_count": MetadataValue.int(figures.rows),
                "impressions": MetadataValue.int(figures.impressions),
                "last_touch_conversions": MetadataValue.float(figures.last_touch_conversions),
            }
            if figures.last_touch_value is not None:
                value = round(figures.last_touch_value, 2)
                day_metadata["attributed_value_last_touch"] = MetadataValue.float(value)
            context.add_asset_metadata(day_metadata, partition_key=day.isoformat())
        return MaterializeResult(
            metadata={
                **_engine_metadata(on_spark_step),
                "first_day": run.window.start.isoformat(),
                "days": MetadataValue.int(run.window.days),
                "rows_in_run_days": MetadataValue.int(rows),
                "campaigns": MetadataValue.md(table),
                "value_by_campaign": MetadataValue.md(chart),
                "seconds": MetadataValue.float(run.seconds()),
            }
        )

    return [impressions, conversions, attributed_conversions, campaign_attribution]
