"""The forget_requests asset: request files landed in forget/ are processed, audited and
deny-listed; the table it materializes is the audit (one row per request, no values)."""

import time

from dagster import AssetExecutionContext, MaterializeResult, asset

from identity_pipeline import settings
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.privacy.files import FOLDER, process_request_files
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.warehouse import naive_utc

GROUP = "privacy"


@asset(
    group_name=GROUP,
    kinds={"duckdb"},
    description="Forget requests (privacy): each row of a file in the landing forget/ folder "
    "names a person by email, phone or anonymous_id; their events, journal, graph entries and "
    "scores are deleted, their identifiers deny-listed, and one audit row per request kept "
    "without the value. `identity-pipeline forget` writes the same audit.",
)
def forget_requests(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
) -> MaterializeResult[None]:
    started = time.perf_counter()
    now = naive_utc(settings.now())
    with warehouse.connect() as con:
        report = process_request_files(con, landing.root / FOLDER, landing.phone_region, now)
        (total,) = con.execute("SELECT count(*) FROM forget_requests").fetchall()[0]
        (deny_listed,) = con.execute("SELECT count(*) FROM forgotten_identifiers").fetchall()[0]
    for message in report.files_failed:
        context.log.error(f"forget request file not read: {message}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": int(total),
            "requests": report.requests,
            "persons_found": report.persons_found,
            "rows_deleted": report.rows_deleted,
            "identifiers_forgotten": report.identifiers_forgotten,
            "deny_list_size": int(deny_listed),
            **file_metadata(report),
            "values_rejected": report.values_rejected,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
