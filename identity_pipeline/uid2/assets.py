"""UID2 assets: what is due for (re)mapping, and the mapping itself. Both call the operator
(v2 bucket checks, map requests), so both sit in the `uid2_api` pool, limited to one run."""

import time

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from identity_pipeline import settings
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.engine.state import publish_state
from identity_pipeline.mapping.assets import DueConfig, mapping_metadata
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline.uid2.mapping import map_due_identities, refresh_due_list

GROUP = "uid2"
POOL = "uid2_api"


class UID2DueConfig(DueConfig):
    """Run config of uid2_due_for_refresh."""


@asset(
    group_name=GROUP,
    pool=POOL,
    deps=["dii", "optouts"],
    kinds={"duckdb"},
    description="Identities to send to UID2 now: never mapped, refresh_from passed (v3) or salt "
    "bucket rotated (v2), or invalid and seen again in newer source data. Never opted-out ones.",
)
def uid2_due_for_refresh(
    context: AssetExecutionContext,
    config: UID2DueConfig,
    warehouse: DuckDBWarehouse,
    uid2: UID2Client,
) -> MaterializeResult[None]:
    started = time.perf_counter()
    with warehouse.connect() as con:
        reasons = refresh_due_list(
            con, uid2, settings.now(), context.log.info, only_new=config.only_new
        )
    return MaterializeResult(
        metadata={
            "dagster/row_count": sum(reasons.values()),
            "by_reason": MetadataValue.json(reasons),
            "api_version": uid2.version,
            "only_new": config.only_new,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@asset(
    group_name=GROUP,
    pool=POOL,
    deps=[uid2_due_for_refresh],
    kinds={"duckdb"},
    description="Raw UID2s per identity: current and previous UID2, refresh_from, status "
    "(mapped / optout / invalid). Each batch commits when it returns, so a killed run resumes.",
)
def uid2_mapping(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    uid2: UID2Client,
    spark: SparkResource,
) -> MaterializeResult[None]:
    with warehouse.connect() as con:
        report = map_due_identities(con, uid2, settings.now(), context.log.warning)
        metadata = mapping_metadata(
            con, report, "uid2", failed="invalid", title="UID2 status of every identity"
        )
        published = publish_state(con, spark)
    details = f", {report.opted_out} opted out, {report.invalid} invalid"
    context.log.info(report.summary("UID2", "identities", details))
    return MaterializeResult(
        metadata={
            **metadata,
            **published,
            "opted_out": report.opted_out,
            "invalid": report.invalid,
            "api_version": uid2.version,
            "parallel_requests": uid2.parallel_requests,
        }
    )
