"""Request files in the landing area's forget/ folder: one forget request per row.

A file (CSV or Parquet) has any of the columns `email`, `phone`, `anonymous_id` (and an
optional `country` for national phone numbers); each row names one person by the values it
holds. Files are read once per checksum, like every landing folder; a changed file is read
again (forgetting twice finds nothing and adds nothing). Each file is one transaction.
Unusable values go to forget_request_rejects with file, row and field and a salted
fingerprint, never the value; the row's other values are still forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Final

import duckdb

from identity_pipeline.landing.files import (
    FileReport,
    Ledger,
    loaded_files,
)
from identity_pipeline.landing.readers import require_any_column
from identity_pipeline.privacy.forget import (
    SQL_PACKAGE,
    ForgetOutcome,
    RequestedIdentifier,
    RequestSource,
    forget,
)
from identity_pipeline.privacy.requests import (
    REQUEST_FIELDS,
    create_request_values,
    stage_request_values,
)
from identity_pipeline.warehouse import fingerprint_salt, run_script, transaction

FOLDER: Final = "forget"
"""The landing area's folder of request files."""
LEDGER: Final = Ledger("forget_request_files", failure_clears=("row_count", "rejected_rows"))
"""What was last read of each request file; a failed version keeps no counts (unlike the other
ledgers, which keep the last loaded version's)."""


@dataclass
class ForgetFilesReport(FileReport):
    requests: int = 0
    persons_found: int = 0
    rows_deleted: int = 0
    identifiers_forgotten: int = 0
    values_rejected: int = 0


def process_request_files(
    con: duckdb.DuckDBPyConnection, folder: Path, default_region: str, now: datetime
) -> ForgetFilesReport:
    """Forget the persons named in every new or changed request file under `folder`."""
    report = ForgetFilesReport()
    salt = fingerprint_salt(con)

    check = partial(require_any_column, any_of=REQUEST_FIELDS, what="request")
    for file, loaded in loaded_files(
        con, LEDGER, folder, report, "fg", check, now, label=f"{FOLDER}/"
    ):
        rel = file.rel
        present: list[str] = [c for c in REQUEST_FIELDS if c in loaded.columns]
        _stage_file(con, present, "country" in loaded.columns, default_region)
        requested = [
            RequestedIdentifier(int(n), str(t), str(v))
            for n, t, v in con.execute(
                "SELECT request_no, id_type, id_value FROM fg_requested_all WHERE error IS NULL"
            ).fetchall()
        ]
        sources = {
            r.request_no: RequestSource("file", rel, r.request_no)
            for r in sorted(requested, key=lambda r: r.request_no)
        }
        with transaction(con):
            outcomes: list[ForgetOutcome] = []
            if sources:
                outcomes = forget(con, requested, sources, now=now, default_region=default_region)
            run_script(
                con,
                SQL_PACKAGE,
                "insert_forget_request_rejects.sql",
                {"source_file": rel, "salt": salt, "now": now},
            )
            (rejected,) = con.execute(
                "SELECT count(*) FROM forget_request_rejects WHERE source_file = ?", [rel]
            ).fetchall()[0]
            LEDGER.record(con, file, now, row_count=loaded.row_count, rejected_rows=rejected)
        report.files_loaded += 1
        report.rows_loaded += loaded.row_count
        report.values_rejected += int(rejected)
        report.requests += len(outcomes)
        report.persons_found += sum(o.persons_found for o in outcomes)
        report.identifiers_forgotten += sum(o.identifiers_forgotten for o in outcomes)
        report.rows_deleted += sum(sum(o.rows_deleted.values()) for o in outcomes)
    con.execute(
        "DROP TABLE IF EXISTS fg_file; DROP TABLE IF EXISTS fg_file_rejects; "
        "DROP TABLE IF EXISTS fg_request_values; DROP TABLE IF EXISTS fg_requested_all"
    )
    return report


def _stage_file(
    con: duckdb.DuckDBPyConnection, present: list[str], has_country: bool, default_region: str
) -> None:
    """fg_file's request columns -> fg_request_values -> fg_requested_all."""
    create_request_values(con)
    region = "country" if has_country else "NULL"
    for column in present:
        con.execute(
            f"INSERT INTO fg_request_values SELECT row_number, '{column}', 1, \"{column}\", "
            f"{region} FROM fg_file WHERE nullif(trim(\"{column}\"), '') IS NOT NULL"
        )
    stage_request_values(con, default_region)
