"""Incremental loading of landed contact files into raw_contacts.

A file is read again only when its bytes change (sha256). Each file is swapped in inside one
transaction, so a crash or a bad file never leaves raw_contacts half-written, and a broken new
version of a file keeps the rows of the last good version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import (
    ChangedFile,
    FileReport,
    loaded_files,
    record_file,
    unread_files,
)
from identity_pipeline.landing.readers import require_columns
from identity_pipeline.warehouse import fingerprint_salt, transaction

REQUIRED_COLUMNS = ("customer_id",)
IDENTIFIER_COLUMNS = ("email", "phone")
OPTIONAL_COLUMNS = ("country", "updated_at")


@dataclass
class IngestReport(FileReport):
    rows_rejected: int = 0


def _record_failure(con: duckdb.DuckDBPyConnection, file: ChangedFile, reason: str) -> None:
    record_file(con, "contact_files", file, _utc_now(), error=reason, size_bytes=file.size)


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
        record_file(
            con,
            "contact_files",
            file,
            loaded_at,
            size_bytes=file.size,
            loaded_checksum=file.checksum,
            row_count=row_count,
            rejected_rows=reject_count,
        )


def ingest_contact_files(con: duckdb.DuckDBPyConnection, contacts_dir: Path) -> IngestReport:
    """Load every new or changed file under contacts_dir; one transaction per file."""
    report = IngestReport()
    salt = fingerprint_salt(con)
    files = unread_files(con, "contact_files", contacts_dir, report)
    check = partial(require_columns, required=REQUIRED_COLUMNS, any_of=IDENTIFIER_COLUMNS)
    for file, loaded in loaded_files(
        con, files, report, "ip", check, partial(_record_failure, con)
    ):
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
