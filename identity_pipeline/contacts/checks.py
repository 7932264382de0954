"""Checks that stop bad contact data from flowing on to mapping."""

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from identity_pipeline.resources import DuckDBWarehouse


@asset_check(asset="dii", blocking=True, description="dii_id and uid2_hash are each unique.")
def dii_unique(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        row = con.execute(
            "SELECT count(*) - count(DISTINCT dii_id), "
            "count(*) - count(DISTINCT uid2_hash) FROM dii"
        ).fetchone()
    dup_ids, dup_hashes = (int(row[0]), int(row[1])) if row else (0, 0)
    return AssetCheckResult(
        passed=dup_ids == 0 and dup_hashes == 0,
        metadata={"duplicate_dii_ids": dup_ids, "duplicate_uid2_hashes": dup_hashes},
    )


@asset_check(
    asset="raw_contacts",
    description="Every landed contact file could be read; lists the ones that could not.",
)
def contact_files_readable(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        failed = con.execute(
            "SELECT file_path, error FROM contact_files WHERE status = 'failed' ORDER BY 1"
        ).fetchall()
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "failed_files": len(failed),
            "details": MetadataValue.md("\n".join(f"- {f}: {e}" for f, e in failed) or "none"),
        },
    )
