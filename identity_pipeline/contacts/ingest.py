"""Incremental loading of landed contact files into raw_contacts.

A file is read again only when its bytes change (sha256). Each file is swapped in inside one
transaction, so a crash or a bad file never leaves raw_contacts half-written, and a broken new
version of a file keeps the rows of the last good version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import (
    ChangedFile,
    FileReport,
    Ledger,
    loaded_files,
)
from identity_pipeline.landing.readers import require_columns
from identity_pipeline.warehouse import fingerprint_salt, transaction

REQUIRED_COLUMNS = ("customer_id",)
IDENTIFIER_COLUMNS = ("email", "phone")
OPTIONAL_COLUMNS = ("country", "updated_at")


LEDGER = Ledger("contact_files", records_size=True)
"""What was last read of each contacts file, and whether dii has caught up with it."""


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _swap_in(
    con: duckdb.DuckDBPyConnection,
    file: ChangedFile,
    loaded_at: datetime,
    columns: tuple[str, ...],
    salt: str,
    row_count: int,
    reject_count: int,
) -> None:
    rel = file.rel

    def col(name: str) -> str:
        return f'"{name}"' if name in columns else "NULL"

    with transaction(con):
        con.execute("DELETE FROM raw_contacts WHERE source_file = ?", [rel])
        con.execute(
            f"""
            INSERT INTO raw_contacts
            SELECT ?, row_number, {col("customer_id")}, {col("email")}, {col("phone")},
                   {col("country")}, {col("updated_at")}, ?
            FROM ip_file
            """,
            [rel, loaded_at],
        )
        con.execute("DELETE FROM dii_rejects WHERE source_file = ? AND stage = 'load'", [rel])
        con.execute(
            """
            INSERT INTO dii_rejects
            SELECT ?, row_number, field, reason, sha256(? || coalesce(line_text, '')), 'load', ?
            FROM ip_file_rejects
            """,
            [rel, salt, loaded_at],
        )
        LEDGER.record(
            con,
            file,
            loaded_at,
            loaded_checksum=file.checksum,
            row_count=row_count,
            rejected_rows=reject_count,
        )


def ingest_contact_files(con: duckdb.DuckDBPyConnection, contacts_dir: Path) -> FileReport:
    """Load every new or changed file under contacts_dir; one transaction per file."""
    report = FileReport()
    salt = fingerprint_salt(con)
    check = partial(require_columns, required=REQUIRED_COLUMNS, any_of=IDENTIFIER_COLUMNS)
    for file, loaded in loaded_files(con, LEDGER, contacts_dir, report, "ip", check, _utc_now()):
        _swap_in(
            con,
            file,
            _utc_now(),
            loaded.columns,
            salt,
            loaded.row_count,
            loaded.reject_count,
        )
        report.files_loaded += 1
        report.rows_loaded += loaded.row_count
        report.rows_rejected += loaded.reject_count
    con.execute("DROP TABLE IF EXISTS ip_file; DROP TABLE IF EXISTS ip_file_rejects")
    return report
