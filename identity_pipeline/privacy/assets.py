"""The forget_requests asset: request files landed in forget/ are processed, audited and
deny-listed; the table it materializes is the audit (one row per request, no values)."""

from typing import Any

import duckdb

from identity_pipeline import settings
from identity_pipeline.landing.assets import landed_files_asset
from identity_pipeline.landing.files import FileReport
from identity_pipeline.privacy.files import FOLDER, process_request_files
from identity_pipeline.resources import LandingArea
from identity_pipeline.warehouse import naive_utc

GROUP = "privacy"


@landed_files_asset(group=GROUP, what="forget request")
def forget_requests(
    con: duckdb.DuckDBPyConnection, landing: LandingArea
) -> tuple[FileReport, dict[str, Any]]:
    """Forget requests (privacy): each row of a file in the landing forget/ folder names a
    person by email, phone or anonymous_id; their events, journal, graph entries and scores
    are deleted, their identifiers deny-listed, and one audit row per request kept without the
    value. `identity-pipeline forget` writes the same audit."""
    now = naive_utc(settings.now())
    report = process_request_files(con, landing.root / FOLDER, landing.phone_region, now)
    (total,) = con.execute("SELECT count(*) FROM forget_requests").fetchall()[0]
    (deny_listed,) = con.execute("SELECT count(*) FROM forgotten_identifiers").fetchall()[0]
    return report, {
        "dagster/row_count": int(total),
        "requests": report.requests,
        "persons_found": report.persons_found,
        "rows_deleted": report.rows_deleted,
        "identifiers_forgotten": report.identifiers_forgotten,
        "deny_list_size": int(deny_listed),
        "values_rejected": report.values_rejected,
    }
