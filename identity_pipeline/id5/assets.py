"""ID5 assets: what is due for (re)mapping, and the mapping with its ID history.

Both sit in the `id5_api` pool (limited to one step at a time by dagster.yaml), so ID5 never
sees two of our runs at once. `id5_mapping` and `id5_uid_history` are one step: each answered
batch updates both in the same transaction, so they can never disagree.
"""

import time
from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from identity_pipeline import settings
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.engine.state import publish_state
from identity_pipeline.id5.client import ID5Client
from identity_pipeline.id5.mapping import map_due_identities, refresh_due_list
from identity_pipeline.mapping.assets import DueConfig, mapping_metadata
from identity_pipeline.resources import DuckDBWarehouse

GROUP = "id5"
POOL = "id5_api"


class ID5DueConfig(DueConfig):
    """Run config of id5_due_for_refresh."""


@asset(
    group_name=GROUP,
    pool=POOL,
    deps=["dii", "optouts", "uid2_mapping"],
    kinds={"duckdb"},
    description="Emails to send to ID5 now: never mapped, mapped at least ID5_REFRESH_DAYS ago, "
    "or rejected and seen again in newer source data. Never opted-out identities (optouts "
    "list or a UID2 'optout' answer); phones are never sent.",
)
def id5_due_for_refresh(
    context: AssetExecutionContext, config: ID5DueConfig, warehouse: DuckDBWarehouse, id5: ID5Client
) -> MaterializeResult[None]:
    started = time.perf_counter()
    with warehouse.connect() as con:
        reasons = refresh_due_list(con, id5, settings.now(), only_new=config.only_new)
        with_country = con.execute(
            "SELECT count(country_alpha2), count(known_uid) FROM id5_due_for_refresh"
        ).fetchall()[0]
    context.log.info(f"ID5: {sum(reasons.values())} email(s) due: {reasons}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": sum(reasons.values()),
            "by_reason": MetadataValue.json(reasons),
            "with_country": int(with_country[0]),
            "with_known_uid": int(with_country[1]),
            "refresh_days": id5.refresh_interval_days,
            "only_new": config.only_new,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@multi_asset(
    specs=[
        AssetSpec(
            "id5_mapping",
            group_name=GROUP,
            deps=[id5_due_for_refresh],
            kinds={"duckdb"},
            description="ID5 ID per email identity: id5_uid, previous_id5_uid, country_alpha2, "
            "status (mapped / optout / error), error_code, mapped_at. Each batch commits when "
            "it returns, so a killed run resumes where it stopped.",
        ),
        AssetSpec(
            "id5_uid_history",
            group_name=GROUP,
            deps=[id5_due_for_refresh],
            kinds={"duckdb"},
            description="Every ID5 ID each identity was given, with first and last seen; "
            "written with id5_mapping in the same transactions.",
        ),
    ],
    pool=POOL,
)
def id5_mapping(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    id5: ID5Client,
    spark: SparkResource,
) -> Iterator[MaterializeResult[None]]:
    with warehouse.connect() as con:
        report = map_due_identities(con, id5, settings.now(), context.log.warning)
        metadata = mapping_metadata(
            con, report, "id5", failed="error", title="ID5 status of every email identity"
        )
        history = con.execute(
            "SELECT count(*), count(DISTINCT dii_id) FROM id5_uid_history"
        ).fetchall()[0]
        published = publish_state(con, spark)
    details = f" ({report.rotated} with a new ID), {report.errors} rejected"
    context.log.info(report.summary("ID5", "users", details))
    yield MaterializeResult(
        asset_key="id5_mapping",
        metadata={
            **metadata,
            **published,
            "rotated": report.rotated,
            "errors": report.errors,
        },
    )
    yield MaterializeResult(
        asset_key="id5_uid_history",
        metadata={
            "dagster/row_count": int(history[0]),
            "identities": int(history[1]),
        },
    )
