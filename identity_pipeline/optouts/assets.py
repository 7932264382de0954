"""The permanent opt-out list: UID2 answers (written by uid2_mapping) plus suppression files."""

import time

from dagster import AssetExecutionContext, MaterializeResult, asset

from identity_pipeline import settings
from identity_pipeline.engine.state import publish_state
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.optouts.store import listed_hashes, purge
from identity_pipeline.optouts.suppression import load_suppression_files
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.warehouse import naive_utc, transaction

GROUP = "optouts"


@asset(
    group_name=GROUP,
    kinds={"duckdb"},
    description="Identities that opted out, for good: from UID2 answers and from suppression "
    "files in the landing optouts/ folder. Loading it removes their IDs everywhere.",
)
def optouts(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
) -> MaterializeResult[None]:
    started = time.perf_counter()
    now = naive_utc(settings.now())
    with warehouse.connect() as con:
        report = load_suppression_files(con, landing.optouts_dir, landing.phone_region, now)
        with transaction(con):
            purge(con, listed_hashes(con))
        by_source = dict(con.execute("SELECT source, count(*) FROM optouts GROUP BY 1").fetchall())
        total = sum(int(v) for v in by_source.values())
        published = publish_state(con)
    for message in report.files_failed:
        context.log.error(f"suppression file not loaded: {message}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "from_uid2_api": int(by_source.get("uid2_api", 0)),
            "from_suppression_files": int(by_source.get("suppression_file", 0)),
            "new_from_files": report.new_optouts,
            **file_metadata(report),
            "values_rejected": report.values_rejected,
            **published,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
