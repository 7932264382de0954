"""Checks that stop bad contact data from flowing on to mapping."""

from collections.abc import Callable

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.warehouse import run_select

RAW_TABLE_PREFIX = "raw_"
"""Only tables named raw_* (raw_contacts, raw_events) may hold raw emails and phones."""

_RAW_LOOKING = (
    "regexp_matches({col}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') "  # an email address
    "OR regexp_full_match(trim({col}), '\\+[0-9]{{8,15}}')"  # an E.164 phone number
)


def _blocking_dii_check(
    description: str,
) -> Callable[[Callable[..., AssetCheckResult]], AssetChecksDefinition]:
    """A check on dii that blocks: mapping does not read dii until it passes."""
    return asset_check(asset="dii", blocking=True, description=description)


@_blocking_dii_check("dii_id and uid2_hash are each unique.")
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


@_blocking_dii_check(
    "Loaded rows reconcile: every email/phone field became a link or a reject, and "
    "every row without one is a reject."
)
def contact_counts_reconcile(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        expected, linked, rejected = run_select(
            con, "identity_pipeline.contacts", "select_count_reconciliation.sql"
        ).fetchall()[0]
    return AssetCheckResult(
        passed=int(expected) == int(linked) + int(rejected),
        metadata={
            "identifier_fields": int(expected),
            "linked": int(linked),
            "rejected": int(rejected),
            "unaccounted": int(expected) - int(linked) - int(rejected),
        },
    )


@_blocking_dii_check(
    "No table but the raw_* ones (raw_contacts, raw_events) has an email/phone column or "
    "holds a value that looks like a raw email address or E.164 phone number."
)
def no_raw_dii_in_derived_tables(warehouse: DuckDBWarehouse) -> AssetCheckResult:
    findings: dict[str, int] = {}
    with warehouse.connect() as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND data_type = 'VARCHAR' "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE')"
        ).fetchall()
        for table, column in columns:
            if table.startswith(RAW_TABLE_PREFIX):
                continue
            if column.lower() in ("email", "phone", "raw_email", "raw_phone"):
                findings[f"{table}.{column} (column name)"] = 1
                continue
            where = _RAW_LOOKING.format(col=f'"{column}"')
            count = con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}').fetchall()[0][0]
            if count:
                findings[f"{table}.{column}"] = int(count)
    return AssetCheckResult(
        passed=not findings,
        metadata={
            "columns_scanned": len(columns),
            "findings": MetadataValue.json(findings),  # where, and how many; never the values
        },
    )
