"""The events landing asset: landed event files -> raw_events, identity_events, event_rejects."""

import time

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from identity_pipeline.events.ingest import ingest_event_files
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

GROUP = "identity_graph"


@asset(
    group_name=GROUP,
    kinds={"duckdb"},
    description="Every landed event file (events/*.jsonl, .jsonl.gz, .parquet; the identity "
    "service's service-*.jsonl too) not yet ingested, by checksum: seed 003 request bodies "
    "into raw_events (the only table with raw emails/phones) and identity_events (hashes "
    "only, day = created_at's UTC date); bad rows in event_rejects; an event_id already "
    "stored is kept once; events of forgotten people are dropped.",
)
def identity_events(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
) -> MaterializeResult[None]:
    started = time.perf_counter()
    with warehouse.connect() as con:
        report = ingest_event_files(con, landing.events_dir, landing.phone_region)
        total = con.execute("SELECT count(*) FROM identity_events").fetchone()
    for message in report.files_failed:
        context.log.error(f"event file not loaded: {message}")
    seconds = time.perf_counter() - started
    days = sorted(report.days)
    context.log.info(
        f"{report.files_loaded} event file(s): {report.rows_loaded} new events, "
        f"{report.rows_rejected} rejected, {report.duplicates} duplicates, "
        f"{report.forgotten} forgotten dropped, {len(days)} day(s) touched"
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": int(total[0]) if total else 0,
            **file_metadata(report),
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "rows_rejected": report.rows_rejected,
            "fields_rejected": report.fields_rejected,
            "duplicates": report.duplicates,
            "forgotten_dropped": report.forgotten,
            "days_touched": len(days),
            "first_day_touched": MetadataValue.text(str(days[0]) if days else "none"),
            "last_day_touched": MetadataValue.text(str(days[-1]) if days else "none"),
            "ingest_seq": report.ingest_seq if report.ingest_seq is not None else 0,
            "seconds": round(seconds, 3),
            "rows_per_second": round(report.rows_read / seconds) if seconds > 0 else 0,
        }
    )
