"""Incremental loading of landed contact files into raw_contacts.

A file is read again only when its bytes change (sha256). Each file is swapped in inside one
transaction, so a crash or a bad file never leaves raw_contacts half-written, and a broken new
version of a file keeps the rows of the last good version.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from identity_pipeline.contacts.readers import (
    SUPPORTED_SUFFIXES,
    InputFileError,
    delimiter_hint,
    describe_columns,
    file_checksum,
    load_file,
)
from identity_pipeline.warehouse import transaction

REQUIRED_COLUMNS = ("customer_id",)
IDENTIFIER_COLUMNS = ("email", "phone")
OPTIONAL_COLUMNS = ("country", "updated_at")


@dataclass
class IngestReport:
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_failed: list[tuple[str, str]] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0
    previously_failed: int = 0


def list_landed_files(contacts_dir: Path) -> list[Path]:
    if not contacts_dir.is_dir():
        return []
    return sorted(
        p
        for p in contacts_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def fingerprint_salt(con: duckdb.DuckDBPyConnection) -> str:
    """Per-warehouse random salt, so fingerprints match across runs but not across installs."""
    con.execute(
        "INSERT INTO warehouse_settings VALUES ('fingerprint_salt', ?) ON CONFLICT DO NOTHING",
        [secrets.token_hex(16)],
    )
    row = con.execute(
        "SELECT value FROM warehouse_settings WHERE key = 'fingerprint_salt'"
    ).fetchone()
    assert row is not None
    return str(row[0])


def _check_columns(path: Path, columns: tuple[str, ...]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not any(c in columns for c in IDENTIFIER_COLUMNS):
        missing.append("email or phone")
    if missing:
        raise InputFileError(
            path,
            f"missing column(s): {', '.join(missing)}; found: {describe_columns(list(columns))}"
            f"{delimiter_hint(list(columns))}",
        )


def _record_failure(
    con: duckdb.DuckDBPyConnection, rel: str, checksum: str, size: int, reason: str
) -> None:
    con.execute(
        """
        INSERT INTO contact_files (file_path, checksum, size_bytes, status, error, seen_at)
        VALUES (?, ?, ?, 'failed', ?, now())
        ON CONFLICT (file_path) DO UPDATE SET
            checksum = excluded.checksum, size_bytes = excluded.size_bytes,
            status = 'failed', error = excluded.error, seen_at = excluded.seen_at
        """,
        [rel, checksum, size, reason],
    )


def _swap_in(
    con: duckdb.DuckDBPyConnection,
    rel: str,
    checksum: str,
    size: int,
    loaded_at: datetime,
    columns: tuple[str, ...],
    salt: str,
    row_count: int,
    reject_count: int,
) -> None:
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
        con.execute(
            """
            INSERT INTO contact_files (file_path, checksum, size_bytes, status, error,
                                       loaded_checksum, row_count, rejected_rows, seen_at)
            VALUES (?, ?, ?, 'loaded', NULL, ?, ?, ?, ?)
            ON CONFLICT (file_path) DO UPDATE SET
                checksum = excluded.checksum, size_bytes = excluded.size_bytes,
                status = 'loaded', error = NULL, loaded_checksum = excluded.loaded_checksum,
                row_count = excluded.row_count, rejected_rows = excluded.rejected_rows,
                seen_at = excluded.seen_at
            """,
            [rel, checksum, size, checksum, row_count, reject_count, loaded_at],
        )


def ingest_contact_files(con: duckdb.DuckDBPyConnection, contacts_dir: Path) -> IngestReport:
    """Load every new or changed file under contacts_dir; one transaction per file."""
    report = IngestReport()
    known = {
        row[0]: (row[1], row[2])
        for row in con.execute("SELECT file_path, checksum, status FROM contact_files").fetchall()
    }
    salt = fingerprint_salt(con)
    for path in list_landed_files(contacts_dir):
        report.files_seen += 1
        rel = path.relative_to(contacts_dir).as_posix()
        checksum = file_checksum(path)
        size = path.stat().st_size
        previous = known.get(rel)
        if previous is not None and previous[0] == checksum:
            report.files_unchanged += 1
            report.previously_failed += previous[1] == "failed"
            continue
        try:
            loaded = load_file(con, path, "ip_file", "ip_file_rejects")
            _check_columns(path, loaded.columns)
        except InputFileError as error:
            message = f"{rel}: {error.reason}"
            _record_failure(con, rel, checksum, size, error.reason)
            report.files_failed.append((rel, message))
            continue
        _swap_in(
            con,
            rel,
            checksum,
            size,
            datetime.now(UTC).replace(tzinfo=None),
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
