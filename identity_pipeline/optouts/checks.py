"""No opted-out identity may hold an ID in any table; checked after every table that holds IDs."""

from collections.abc import Sequence

from dagster import AssetCheckResult, AssetChecksDefinition, MetadataValue, asset_check

from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.warehouse import run_select


def _violations(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        rows = run_select(
            con, "identity_pipeline.optouts", "select_optout_violations.sql"
        ).fetchall()
    counts = {str(table): int(n) for table, n in rows}
    total = sum(counts.values())
    return AssetCheckResult(
        passed=total == 0,
        metadata={
            "identities_holding_ids": total,
            "by_table": MetadataValue.json(counts),
        },
    )


def _build(asset: str) -> AssetChecksDefinition:
    @asset_check(
        asset=asset,
        name="opted_out_hold_no_ids",
        blocking=True,
        description="No opted-out identity holds a UID2 or ID5 ID in any table.",
    )
    def opted_out_hold_no_ids(warehouse: DuckDBWarehouse) -> AssetCheckResult:
        return _violations(warehouse)

    return opted_out_hold_no_ids


def optout_checks(assets: Sequence[str]) -> list[AssetChecksDefinition]:
    return [_build(asset) for asset in assets]
