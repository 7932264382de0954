"""Suppression files in the landing area's optouts/ folder: hashes or raw values.

A file may carry any of the columns `email`, `phone` (raw values, normalized exactly as contact
files are, then discarded), `uid2_hash`, `email_hash`, `phone_hash` (base64 or hex SHA-256 of
the normalized value). Opt-outs are permanent, so a changed or removed file never takes one
back; unusable values go to optout_rejects with a salted fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import FileReport, Ledger, loaded_files
from identity_pipeline.landing.readers import require_any_column
from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.optouts.store import SQL_PACKAGE, SUPPRESSION_FILE, record_optouts
from identity_pipeline.warehouse import fingerprint_salt, run_script, transaction

RAW_COLUMNS = ("email", "phone")
HASH_COLUMNS = ("uid2_hash", "email_hash", "phone_hash")
LEDGER = Ledger("optout_files")
"""What was last read of each suppression file."""


@dataclass
class SuppressionReport(FileReport):
    new_optouts: int = 0
    values_rejected: int = 0


def _stage_values(
    con: duckdb.DuckDBPyConnection, columns: tuple[str, ...], default_region: str
) -> None:
    raw = [c for c in RAW_COLUMNS if c in columns]
    hashed = [c for c in HASH_COLUMNS if c in columns]
    raw_sql = " UNION ALL ".join(
        f"SELECT row_number, '{c}' AS dii_type, \"{c}\" AS value, "
        f"{'country' if 'country' in columns else 'NULL'} AS region FROM op_file "
        f"WHERE nullif(trim(\"{c}\"), '') IS NOT NULL"
        for c in raw
    ) or (
        "SELECT NULL::BIGINT AS row_number, NULL::VARCHAR AS dii_type, "
        "NULL::VARCHAR AS value, NULL::VARCHAR AS region WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE op_raw AS {raw_sql}")
    normalize_table(con, "op_raw", "op_raw_normalized", default_region)
    hash_sql = (
        " UNION ALL ".join(
            f"SELECT row_number, '{c}' AS field, trim(\"{c}\") AS v FROM op_file "
            f"WHERE nullif(trim(\"{c}\"), '') IS NOT NULL"
            for c in hashed
        )
        or "SELECT NULL::BIGINT AS row_number, NULL::VARCHAR AS field, NULL::VARCHAR AS v "
        "WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE op_hash_values AS {hash_sql}")
    run_script(con, SQL_PACKAGE, "create_suppression_values.sql")


def load_suppression_files(
    con: duckdb.DuckDBPyConnection, optouts_dir: Path, default_region: str, now: datetime
) -> SuppressionReport:
    """Add the opt-outs of every new or changed file; one transaction per file."""
    report = SuppressionReport()
    salt = fingerprint_salt(con)

    check = partial(require_any_column, any_of=RAW_COLUMNS + HASH_COLUMNS, what="opt-out")
    for file, loaded in loaded_files(
        con, LEDGER, optouts_dir, report, "op", check, now, label="optouts/"
    ):
        rel = file.rel
        _stage_values(con, loaded.columns, default_region)
        with transaction(con):
            before = _count(con, "SELECT count(*) FROM optouts")
            record_optouts(
                con,
                con.sql(
                    "SELECT uid2_hash, dii_type FROM op_values WHERE error IS NULL"
                ).to_arrow_table(),
                source=SUPPRESSION_FILE,
                now=now,
                source_file=rel,
            )
            report.new_optouts += _count(con, "SELECT count(*) FROM optouts") - before
            con.execute("DELETE FROM optout_rejects WHERE source_file = ?", [rel])
            con.execute(
                """
                INSERT INTO optout_rejects
                SELECT ?, row_number, field, error, sha256(? || coalesce(value, '')),
                       CAST(? AS TIMESTAMP)
                FROM op_values WHERE error IS NOT NULL
                UNION ALL
                SELECT ?, row_number, coalesce(field, 'row'), reason,
                       sha256(? || coalesce(line_text, '')), CAST(? AS TIMESTAMP)
                FROM op_file_rejects
                """,
                [rel, salt, now, rel, salt, now],
            )
            rejected = _count(
                con, "SELECT count(*) FROM optout_rejects WHERE source_file = ?", [rel]
            )
            LEDGER.record(con, file, now, row_count=loaded.row_count, rejected_rows=rejected)
        report.files_loaded += 1
        report.rows_loaded += loaded.row_count
        report.values_rejected += rejected
    con.execute(
        "DROP TABLE IF EXISTS op_file; DROP TABLE IF EXISTS op_file_rejects; "
        "DROP TABLE IF EXISTS op_raw; DROP TABLE IF EXISTS op_raw_normalized; "
        "DROP TABLE IF EXISTS op_hash_values; DROP TABLE IF EXISTS op_values"
    )
    return report


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    rows = con.execute(sql, params or []).fetchall()  # fetched whole: the result is closed
    return int(rows[0][0]) if rows else 0
