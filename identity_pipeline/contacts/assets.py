"""Contact ingestion assets: landed files -> raw_contacts -> dii, customer_dii, dii_rejects."""

import time
from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from identity_pipeline.contacts.identities import build_identities
from identity_pipeline.contacts.ingest import ingest_contact_files
from identity_pipeline.landing.assets import landed_files_asset
from identity_pipeline.landing.files import FileReport
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

GROUP = "contacts"


@landed_files_asset(group=GROUP, what="contact")
def raw_contacts(
    con: duckdb.DuckDBPyConnection, landing: LandingArea
) -> tuple[FileReport, dict[str, Any]]:
    """Every landed contact file (CSV/Parquet) as raw rows; a file is re-read only when its
    checksum changes. The only table that holds raw emails and phones."""
    report = ingest_contact_files(con, landing.contacts_dir)
    total = con.execute("SELECT count(*) FROM raw_contacts").fetchone()
    return report, {
        "dagster/row_count": int(total[0]) if total else 0,
        "rows_loaded": report.rows_loaded,
        "rows_rejected_unparseable": report.rows_rejected,
    }


def _from_raw_contacts(name: str, description: str) -> AssetSpec:
    """An output of contact_identities: a DuckDB table built from raw_contacts."""
    return AssetSpec(
        name, deps=[raw_contacts], group_name=GROUP, kinds={"duckdb"}, description=description
    )


@multi_asset(
    specs=[
        _from_raw_contacts(
            "dii",
            "One row per distinct normalized identity: UID2 (base64) and ID5 (hex) "
            "SHA-256 hashes, first/last seen, how many source rows carry it.",
        ),
        _from_raw_contacts("customer_dii", "Which identities belong to which customer_id."),
        _from_raw_contacts(
            "dii_rejects",
            "Rows and fields we could not use: file, row, field, reason and a "
            "salted fingerprint, never the raw value.",
        ),
    ],
)
def contact_identities(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
) -> Iterator[MaterializeResult[None]]:
    """Normalize and hash only the files dii has not caught up with, in one transaction."""
    started = time.perf_counter()
    with warehouse.connect() as con:
        report = build_identities(con, landing.phone_region)
        by_type = dict(con.execute("SELECT dii_type, count(*) FROM dii GROUP BY 1").fetchall())
        rejects_total = con.execute("SELECT count(*) FROM dii_rejects").fetchone()
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(
        f"normalized {report.values_processed} values from {report.files_processed} file(s): "
        f"{report.new_identities} new identities, {report.values_rejected} rejected"
    )
    yield MaterializeResult(
        asset_key="dii",
        metadata={
            "dagster/row_count": report.total_identities,
            "new_identities": report.new_identities,
            "emails": int(by_type.get("email", 0)),
            "phones": int(by_type.get("phone", 0)),
            "files_processed": report.files_processed,
            "values_processed": report.values_processed,
            "seconds": seconds,
        },
    )
    yield MaterializeResult(
        asset_key="customer_dii", metadata={"dagster/row_count": report.total_links}
    )
    yield MaterializeResult(
        asset_key="dii_rejects",
        metadata={
            "dagster/row_count": int(rejects_total[0]) if rejects_total else 0,
            "rejected_this_run": report.values_rejected,
            "by_reason": MetadataValue.json(report.rejects_by_reason),
        },
    )
