"""Checks on the UID2 mapping."""

from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from identity_pipeline import settings
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.warehouse import naive_utc


@asset_check(
    asset="uid2_mapping",
    description="After a refresh every mapped v3 row has refresh_from in the future; rows "
    "past it mean the refresh did not finish.",
)
def uid2_refresh_from_in_future(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        row = con.execute(
            "SELECT count(*) FROM uid2_mapping WHERE status = 'mapped' "
            "AND refresh_from IS NOT NULL AND refresh_from <= CAST(? AS TIMESTAMP)",
            [naive_utc(settings.now())],
        ).fetchall()
    stale = int(row[0][0]) if row else 0
    return AssetCheckResult(
        passed=stale == 0, severity=AssetCheckSeverity.WARN, metadata={"stale_rows": stale}
    )
