"""Incremental loading of landed impressions/ and conversions/ files into landed_* tables.

Same pattern as contacts: a file is re-read only when its sha256 changes, and each file's rows
are swapped in one transaction, so a broken new version keeps the rows of its last good one.
A file may hold rows of several days (a late file often does); the day comes from `ts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import (
    ChangedFile,
    FileReport,
    Ledger,
    loaded_files,
)
from identity_pipeline.landing.readers import InputFileError, load_file, require_columns
from identity_pipeline.warehouse import run_script, transaction

SQL_PACKAGE = "identity_pipeline.attribution"


@dataclass(frozen=True)
class LandingKind:
    """What one landing folder holds and how its rows become typed landed_* rows."""

    name: str
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    optional: tuple[str, ...]
    typed_columns: tuple[str, ...]
    """Columns of attr_typed copied to landed_<name>, between row_number and loaded_at."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.any_of + self.optional

    @property
    def landed_table(self) -> str:
        return f"landed_{self.name}"

    @property
    def ledger(self) -> Ledger:
        """Its rows of attribution_files, the ledger the two folders share."""
        return Ledger("attribution_files", key={"kind": self.name}, records_size=True)


IMPRESSIONS = LandingKind(
    name="impressions",
    required=("impression_id", "ts", "campaign_id", "id_type", "id"),
    any_of=(),
    optional=("cost",),
    typed_columns=("impression_id", "ts", "day", "campaign_id", "id_type", "id", "cost"),
)
CONVERSIONS = LandingKind(
    name="conversions",
    required=("conversion_id", "ts", "value", "currency"),
    any_of=("customer_id", "uid2_hash", "id"),
    optional=("id_type",),
    typed_columns=(
        "conversion_id",
        "ts",
        "day",
        "customer_id",
        "uid2_hash",
        "value",
        "currency",
        "id_type",
        "id",
    ),
)
"""A conversion names its person by customer_id, uid2_hash and/or an ad id (id_type 'uid2' or
'id5' with id); id_type and id are optional columns, so files without them load as before."""


@dataclass
class LandingReport(FileReport):
    days_touched: set[date] = field(default_factory=set)
    """Days whose landed rows changed in this call (new rows, or rows of a replaced version)."""


def _stage(con: duckdb.DuckDBPyConnection, kind: LandingKind, columns: tuple[str, ...]) -> None:
    """attr_stage: the loaded file with every expected column, NULL where the file has none."""
    selected = ", ".join(
        f'"{c}"' if c in columns else f'CAST(NULL AS VARCHAR) AS "{c}"' for c in kind.columns
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW attr_stage AS SELECT row_number, {selected} FROM attr_file"
    )
    run_script(con, SQL_PACKAGE, f"create_typed_{kind.name}.sql")


def _days(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> set[date]:
    return {row[0] for row in con.execute(sql, params).fetchall() if row[0] is not None}


def _swap_in(
    con: duckdb.DuckDBPyConnection,
    kind: LandingKind,
    file: ChangedFile,
    loaded_at: datetime,
) -> tuple[int, int, set[date]]:
    """Replace the file's landed rows and rejects; returns (rows, rejects, days touched)."""
    rel = file.rel
    table = kind.landed_table
    typed = ", ".join(kind.typed_columns)
    with transaction(con):
        touched = _days(con, f"SELECT DISTINCT day FROM {table} WHERE source_file = ?", [rel])
        con.execute(f"DELETE FROM {table} WHERE source_file = ?", [rel])
        con.execute(
            f"INSERT INTO {table} (source_file, row_number, {typed}, loaded_at) "
            f"SELECT ?, row_number, {typed}, ? "
            "FROM attr_typed WHERE reject_field IS NULL ORDER BY day, ts",
            [rel, loaded_at],
        )
        con.execute(
            "DELETE FROM attribution_rejects WHERE kind = ? AND source_file = ?", [kind.name, rel]
        )
        con.execute(
            """
            INSERT INTO attribution_rejects
            SELECT ?, ?, row_number, field, reason, ? FROM attr_file_rejects
            UNION ALL
            SELECT ?, ?, row_number, reject_field, reject_reason, ?
            FROM attr_typed WHERE reject_field IS NOT NULL
            """,
            [kind.name, rel, loaded_at] * 2,
        )
        row = con.execute(
            "SELECT count(*) FILTER (WHERE reject_field IS NULL), "
            "count(*) FILTER (WHERE reject_field IS NOT NULL), min(day) FILTER "
            "(WHERE reject_field IS NULL), max(day) FILTER (WHERE reject_field IS NULL) "
            "FROM attr_typed"
        ).fetchone()
        assert row is not None
        good, bad = int(row[0]), int(row[1])
        bad += int(con.execute("SELECT count(*) FROM attr_file_rejects").fetchall()[0][0])
        kind.ledger.record(
            con,
            file,
            loaded_at,
            row_count=good,
            rejected_rows=bad,
            first_day=row[2],
            last_day=row[3],
        )
        touched |= _days(con, "SELECT DISTINCT day FROM attr_typed WHERE reject_field IS NULL", [])
    return good, bad, touched


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ingest_landed_files(
    con: duckdb.DuckDBPyConnection, kind: LandingKind, directory: Path
) -> LandingReport:
    """Load every new or changed file of `kind` under directory; one transaction per file."""
    con.execute("SET TimeZone = 'UTC'")
    report = LandingReport()
    check = partial(require_columns, required=kind.required, any_of=kind.any_of)
    for file, loaded in loaded_files(
        con, kind.ledger, directory, report, "attr", check, _utc_now(), label=f"{kind.name}/"
    ):
        _stage(con, kind, loaded.columns)
        good, bad, touched = _swap_in(con, kind, file, _utc_now())
        report.files_loaded += 1
        report.rows_loaded += good
        report.rows_rejected += bad
        report.days_touched |= touched
    con.execute(
        "DROP VIEW IF EXISTS attr_stage; DROP TABLE IF EXISTS attr_typed; "
        "DROP TABLE IF EXISTS attr_file; DROP TABLE IF EXISTS attr_file_rejects"
    )
    return report


def file_days(path: Path) -> set[date]:
    """UTC days a landed file's rows fall on, read without touching the warehouse (sensors)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        loaded = load_file(con, path, "attr_file", "attr_file_rejects")
        if "ts" not in loaded.columns:
            return set()
        return _days(
            con,
            "SELECT DISTINCT CAST(try_cast(trim(ts) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) "
            "FROM attr_file",
            [],
        )
    except InputFileError:
        return set()
    finally:
        con.close()
