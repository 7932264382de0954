"""The permanent opt-out list: UID2 answers (written by uid2_mapping) plus suppression files."""

from typing import Any

import duckdb

from identity_pipeline import settings
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.engine.state import publish_state
from identity_pipeline.landing.assets import landed_files_asset_with_spark
from identity_pipeline.landing.files import FileReport
from identity_pipeline.optouts.store import listed_hashes, purge
from identity_pipeline.optouts.suppression import load_suppression_files
from identity_pipeline.resources import LandingArea
from identity_pipeline.warehouse import naive_utc, transaction

GROUP = "optouts"


@landed_files_asset_with_spark(group=GROUP, what="suppression")
def optouts(
    con: duckdb.DuckDBPyConnection, landing: LandingArea, spark: SparkResource
) -> tuple[FileReport, dict[str, Any]]:
    """Identities that opted out, for good: from UID2 answers and from suppression files in the
    landing optouts/ folder. Loading it removes their IDs everywhere."""
    now = naive_utc(settings.now())
    report = load_suppression_files(con, landing.optouts_dir, landing.phone_region, now)
    with transaction(con):
        purge(con, listed_hashes(con))
    by_source = dict(con.execute("SELECT source, count(*) FROM optouts GROUP BY 1").fetchall())
    return report, {
        "dagster/row_count": sum(int(v) for v in by_source.values()),
        "from_uid2_api": int(by_source.get("uid2_api", 0)),
        "from_suppression_files": int(by_source.get("suppression_file", 0)),
        "new_from_files": report.new_optouts,
        "values_rejected": report.values_rejected,
        **publish_state(con, spark),
    }
