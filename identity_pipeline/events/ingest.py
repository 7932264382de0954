"""Incremental loading of landed event files into raw_events, identity_events, event_rejects.

A file is read again only when its bytes change (sha256, event_files). Each file is parsed,
checked, normalized and hashed set-wise in DuckDB (read_csv of its lines or read_parquet, the
JSON functions, normalize.values.normalize_table), then stored in one transaction: nothing of a
file is ever half-written. Events are append-only: an event_id already stored is a duplicate,
kept once, so a file that changed (grew) adds only its new events, and a file landed twice adds
nothing. Errors name the file, the line, the field and a reason; never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from identity_pipeline.landing.files import ChangedFile, FileReport, Ledger
from identity_pipeline.landing.readers import (
    EVENT_SUFFIXES,
    MAX_LINE_BYTES,
    InputFileError,
    read_errors,
    require_columns,
    sanitized,
)
from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.warehouse import run_script, settings, transaction

PACKAGE = "identity_pipeline.events"
INGEST_SEQ_KEY = "events_ingest_seq"
MEMORY_LIMIT = "2GB"
"""DuckDB's memory limit while ingesting (the rest spills to disk), restored afterwards: a file
of millions of events is worked on in several temp tables at once."""
_SCRATCH = (
    "ev_line_numbers",
    "ev_raw_lines",
    "ev_csv_errors",
    "ev_csv_scans",
    "ev_fields",
    "ev_line_rejects",
    "ev_checked",
    "ev_dii_input",
    "ev_dii",
    "ev_hashed",
    "ev_forgotten",
    "ev_known",
    "ev_batch",
    "ev_rejects",
)


LEDGER = Ledger("event_files")
"""What was last read of each events file (written by merge_into_event_files.sql)."""


@dataclass
class EventIngestReport(FileReport):
    """One pass over the events folder: counts only, never values."""

    rows_read: int = 0
    # rows_rejected: events not stored because of a problem (event_rejects rows, kept = false)
    fields_rejected: int = 0
    """Invalid emails/phones dropped from events that were stored (kept = true)."""
    duplicates: int = 0
    forgotten: int = 0
    days: set[date] = field(default_factory=set)
    """Days (UTC, by created_at) that received new events."""
    ingest_seq: int | None = None


@dataclass(frozen=True)
class FileCounts:
    rows_read: int
    stored: int
    rejected: int
    fields_rejected: int
    duplicates: int
    forgotten: int
    days: frozenset[date]


def ingest_event_files(
    con: duckdb.DuckDBPyConnection, events_dir: Path, default_region: str
) -> EventIngestReport:
    """Load every new or changed file under events_dir; one transaction per file.

    A file that cannot be read is recorded as failed in event_files (with a reason that holds
    no content) and the other files still load.
    """
    report = EventIngestReport()
    with settings(con, memory_limit=MEMORY_LIMIT):
        try:
            for file in LEDGER.unread(con, events_dir, report, EVENT_SUFFIXES):
                loaded_at = datetime.now(UTC).replace(tzinfo=None)
                try:
                    _stage_lines(con, file.path)
                except InputFileError as error:
                    _record_file(con, file, loaded_at, status="failed", error=error.reason)
                    report.files_failed.append(f"{file.rel}: {error.reason}")
                    continue
                if report.ingest_seq is None:
                    report.ingest_seq = _next_ingest_seq(con)
                try:
                    counts = _check_and_store(
                        con, file, loaded_at, default_region, report.ingest_seq
                    )
                except duckdb.Error as error:
                    # DuckDB's messages may quote input: keep only what names no content
                    reason = f"not loaded: {sanitized(error).split('Input:')[0].strip()}"
                    _record_file(con, file, loaded_at, status="failed", error=reason)
                    report.files_failed.append(f"{file.rel}: {reason}")
                    continue
                report.files_loaded += 1
                report.rows_read += counts.rows_read
                report.rows_loaded += counts.stored
                report.rows_rejected += counts.rejected
                report.fields_rejected += counts.fields_rejected
                report.duplicates += counts.duplicates
                report.forgotten += counts.forgotten
                report.days |= counts.days
        finally:
            _drop_scratch(con)
    return report


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS ev_lines")
    for table in _SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _next_ingest_seq(con: duckdb.DuckDBPyConnection) -> int:
    """A number larger than any ingest run's so far; kept in warehouse_settings, so it never
    goes back even when forgotten events are deleted."""
    row = con.execute(
        "SELECT greatest((SELECT max(CAST(value AS BIGINT)) FROM warehouse_settings "
        "WHERE key = $key), (SELECT max(ingest_seq) FROM raw_events), 0) + 1",
        {"key": INGEST_SEQ_KEY},
    ).fetchone()
    seq = int(row[0]) if row else 1
    con.execute(
        "INSERT INTO warehouse_settings VALUES ($key, $value) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"key": INGEST_SEQ_KEY, "value": str(seq)},
    )
    return seq


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _stage_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Temp view ev_lines (line_number, line): the file's rows as JSON object text; lines
    that are not UTF-8 in ev_csv_errors."""
    _drop_scratch(con)
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file (0 bytes)")
    if path.name.lower().endswith(".parquet"):
        _stage_parquet(con, path)
        con.execute(
            "CREATE TEMP TABLE ev_csv_errors (line BIGINT, column_name VARCHAR, error_type VARCHAR)"
        )
    else:
        _stage_json_lines(con, path)


def _stage_json_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Every line as text (gzip by extension), numbered from 1 as in the file. A line that is
    not UTF-8 is left out of ev_lines and kept in ev_csv_errors."""
    options = (
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', "
        "escape = '', auto_detect = false, compression = 'auto', strict_mode = false, "
        f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        "rejects_table = 'ev_csv_errors', rejects_scan = 'ev_csv_scans'"
    )
    with read_errors(path):
        con.execute(
            f"CREATE TEMP TABLE ev_raw_lines AS SELECT * FROM read_csv({_literal(path)}, {options})"
        )
    (errors,) = con.execute("SELECT count(*) FROM ev_csv_errors").fetchone() or (0,)
    if not errors:
        con.execute(
            "CREATE TEMP VIEW ev_lines AS SELECT rowid + 1 AS line_number, line FROM ev_raw_lines"
        )
        return
    # ev_raw_lines.rowid counts good lines only: shift each past the bad lines before it.
    con.execute(
        """
        CREATE TEMP TABLE ev_line_numbers AS
        WITH bad AS (SELECT DISTINCT line FROM ev_csv_errors)
        SELECT row_number() OVER (ORDER BY i) - 1 AS k, i AS line_number
        FROM range(1, (SELECT count(*) FROM ev_raw_lines) + (SELECT count(*) FROM bad) + 1) AS t(i)
        WHERE i NOT IN (SELECT line FROM bad)
        """
    )
    con.execute(
        """
        CREATE TEMP VIEW ev_lines AS
        SELECT n.line_number, raw.line
        FROM ev_raw_lines AS raw JOIN ev_line_numbers AS n ON n.k = raw.rowid
        """
    )


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Each Parquet row as the JSON object it stands for: timestamps as ISO 8601 UTC text,
    a text valuation_properties holding JSON as that JSON; column names lower-cased."""
    with read_errors(path):
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_literal(path)})").fetchall()
    columns = {str(name).strip().lower(): (str(name), str(kind)) for name, kind, *_ in described}
    columns = {k: v for k, v in columns.items() if '"' not in v[0] and "'" not in k}
    require_columns(path, tuple(columns), ("event_id", "created_at"), ("anonymous_id", "email"))
    parts = []
    for key, (name, kind) in columns.items():
        col = f'"{name}"'
        if kind.upper().startswith(("TIMESTAMP", "DATE")):
            expr = f"strftime(CAST({col} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ')"
        elif key == "valuation_properties" and kind.upper() == "VARCHAR":
            # json() errors on text that is not JSON: only valid text reaches it
            expr = f"coalesce(json(CASE WHEN json_valid({col}) THEN {col} END), to_json({col}))"
        else:
            expr = col
        parts.append(f"'{key}', {expr}")
    with read_errors(path):
        con.execute(
            f"""
            CREATE TEMP TABLE ev_raw_lines AS
            SELECT file_row_number + 1 AS line_number,
                   CAST(json_object({", ".join(parts)}) AS VARCHAR) AS line
            FROM read_parquet({_literal(path)}, file_row_number = true)
            ORDER BY line_number
            """
        )
    con.execute("CREATE TEMP VIEW ev_lines AS SELECT line_number, line FROM ev_raw_lines")


def _check_and_store(
    con: duckdb.DuckDBPyConnection,
    file: ChangedFile,
    loaded_at: datetime,
    default_region: str,
    ingest_seq: int,
) -> FileCounts:
    run_script(con, PACKAGE, "create_event_fields.sql")
    con.execute(
        "INSERT INTO ev_line_rejects SELECT line, NULL, 'line', 'not_utf8', false "
        "FROM (SELECT DISTINCT line FROM ev_csv_errors)"
    )
    read = con.execute(
        "SELECT (SELECT count(*) FILTER (WHERE NOT coalesce(blank, true)) FROM ev_fields) "
        "+ (SELECT count(DISTINCT line) FROM ev_csv_errors)"
    ).fetchone()
    run_script(con, PACKAGE, "create_event_checked.sql")
    normalize_table(con, "ev_dii_input", "ev_dii", default_region)
    run_script(con, PACKAGE, "create_event_hashed.sql")
    if con.execute("SELECT count(*) FROM forgotten_identifiers").fetchone() != (0,):
        run_script(con, PACKAGE, "create_event_forgotten.sql")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE ev_forgotten (line_number BIGINT)")
    run_script(con, PACKAGE, "create_event_batch.sql")
    counts = _file_counts(con, int(read[0]) if read else 0)
    params: dict[str, Any] = {
        "source_file": file.rel,
        "loaded_at": loaded_at,
        "ingest_seq": ingest_seq,
    }
    with transaction(con):
        run_script(con, PACKAGE, "insert_event_batch.sql", params)
        _record_file(con, file, loaded_at, status="loaded", counts=counts)
    return counts


def _file_counts(con: duckdb.DuckDBPyConnection, rows_read: int) -> FileCounts:
    row = con.execute(
        """
        SELECT count(*) FILTER (WHERE fate = 'stored'),
               count(*) FILTER (WHERE fate = 'duplicate'),
               count(*) FILTER (WHERE fate = 'forgotten'),
               (SELECT count(*) FILTER (WHERE NOT kept) FROM ev_rejects),
               (SELECT count(*) FILTER (WHERE kept) FROM ev_rejects),
               list(DISTINCT day) FILTER (WHERE fate = 'stored')
        FROM ev_batch
        """
    ).fetchone()
    assert row is not None
    stored, duplicates, forgotten, rejected, fields_rejected, days = row
    return FileCounts(
        rows_read=rows_read,
        stored=int(stored),
        rejected=int(rejected),
        fields_rejected=int(fields_rejected),
        duplicates=int(duplicates),
        forgotten=int(forgotten),
        days=frozenset(days or ()),
    )


def _record_file(
    con: duckdb.DuckDBPyConnection,
    file: ChangedFile,
    seen_at: datetime,
    *,
    status: str,
    error: str | None = None,
    counts: FileCounts | None = None,
) -> None:
    run_script(
        con,
        PACKAGE,
        "merge_into_event_files.sql",
        {
            "file_path": file.rel,
            "checksum": file.checksum,
            "size_bytes": file.size,
            "status": status,
            "error": error,
            "seen_at": seen_at,
            "row_count": counts.rows_read if counts else None,
            "rejected_rows": counts.rejected if counts else None,
            "stored_rows": counts.stored if counts else None,
            "duplicate_rows": counts.duplicates if counts else None,
            "forgotten_rows": counts.forgotten if counts else None,
        },
    )
