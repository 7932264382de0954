"""Reading landed CSV and Parquet files into DuckDB with errors that never echo file content.

DuckDB's own CSV errors quote the offending line, which is raw DII. Every error leaving this
module is rebuilt from the file name, a line number and a reason code instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

SUPPORTED_SUFFIXES = (".csv", ".parquet")
"""What the contacts, opt-outs, impressions and conversions folders read."""
EVENT_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
"""What the events folder reads: JSON Lines (optionally gzipped) and Parquet."""

EVENT_FIELDS = (
    "event_id",
    "created_at",
    "platform",
    "anonymous_id",
    "email",
    "phone",
    "fbclid",
    "gclid",
    "gaclid",
    "valuation_properties",
)
"""The fields of a landed event: seed 003's request body plus event_id and created_at
(`gaclid` is Google's other name for `gclid`). Other keys are kept in the raw payload only."""

MAX_LINE_BYTES = 64 * 1024 * 1024
"""Lines longer than this fail the file; shorter over-long values become row rejects."""

_SAFE_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$")
_DUCKDB_REJECT_REASONS = {
    "INVALID ENCODING": "not_utf8",
    "TOO MANY COLUMNS": "too_many_columns",
    "MISSING COLUMNS": "missing_columns",
    "UNQUOTED VALUE": "bad_quoting",
    "INVALID UNICODE": "not_utf8",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "CAST ERROR": "bad_value",
}


def has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    """Whether the file name ends (case-insensitively) with one of `suffixes`, which may have
    several dots (".jsonl.gz")."""
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in suffixes)


class InputFileError(ValueError):
    """A file we cannot read as a whole; the message names the file and never its content."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class LoadedFile:
    """What load_file read into the temp tables it was given (each row with a 1-based
    `row_number`): the file's columns, its rows, and the rows DuckDB could not parse."""

    columns: tuple[str, ...]
    row_count: int
    reject_count: int


def describe_columns(columns: list[str]) -> str:
    """Column names for an error message, withheld when they look like data (no header row)."""
    if all(_SAFE_COLUMN.match(c) for c in columns):
        return ", ".join(columns)
    return f"{len(columns)} column(s) whose names look like data (is the header row missing?)"


def delimiter_hint(columns: list[str]) -> str:
    if len(columns) == 1:
        for name, symbol in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|")):
            if symbol in columns[0]:
                return f"; the header looks {name}-delimited, but files must be comma-separated"
    return ""


def sanitized(error: duckdb.Error) -> str:
    """Keep only DuckDB's first line minus anything after 'Line:'; content is never included."""
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    first = re.sub(r"(?i)original line.*", "", first)
    first = re.sub(r"(?i)(line: ?\d+).*", r"\1", first)
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "<value>", first)  # quoted text may be data
    return first[:200]


def load_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, rejects: str) -> LoadedFile:
    """Read one CSV/Parquet file as all-VARCHAR into temp tables `table` and `rejects`.

    `rejects` gets (row_number, field, reason, line_text) for CSV rows DuckDB could not parse;
    callers fingerprint line_text and drop it. Raises InputFileError for whole-file problems.
    """
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file (0 bytes)")
    con.execute(f"DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {rejects}")
    try:
        if path.suffix.lower() == ".parquet":
            _load_parquet(con, path, table, rejects)
        elif path.suffix.lower() == ".csv":
            _load_csv(con, path, table, rejects)
        else:
            raise InputFileError(
                path, f"unsupported file type; expected one of {SUPPORTED_SUFFIXES}"
            )
    except duckdb.Error as error:
        raise InputFileError(path, f"unreadable: {sanitized(error)}") from None
    columns = tuple(
        row[0] for row in con.execute(f"DESCRIBE {table}").fetchall() if row[0] != "row_number"
    )
    row_count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    reject_count = con.execute(f"SELECT count(*) FROM {rejects}").fetchone()[0]  # type: ignore[index]
    if not columns:
        raise InputFileError(path, "no columns found (is the file empty?)")
    return LoadedFile(columns, int(row_count), int(reject_count))


def _parquet_select(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """SELECT of every column as VARCHAR under its lower-case name, plus a 1-based row_number."""
    names = [
        r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    ]
    casts = ", ".join(
        f'CAST("{n}" AS VARCHAR) AS "{n.strip().lower()}"' for n in names if '"' not in n
    )
    literal = str(path).replace("'", "''")
    return (
        f"SELECT file_row_number + 1 AS row_number, {casts} "
        f"FROM read_parquet('{literal}', file_row_number = true)"
    )


def open_parquet(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> tuple[str, ...]:
    """Define temp view `view` over a Parquet file, columns as load_file has them, no copy.

    Returns the column names (without row_number). Reading happens when the view is queried;
    wrap that query in `read_errors` so errors stay free of file content.
    """
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file (0 bytes)")
    with read_errors(path):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {_parquet_select(con, path)}")
        columns = tuple(
            row[0] for row in con.execute(f"DESCRIBE {view}").fetchall() if row[0] != "row_number"
        )
    if not columns:
        raise InputFileError(path, "no columns found (is the file empty?)")
    return columns


@contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """Turn DuckDB errors while reading `path` into an InputFileError without file content."""
    try:
        yield
    except duckdb.Error as error:
        raise InputFileError(path, f"unreadable: {sanitized(error)}") from None


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str, rejects: str) -> None:
    con.execute(f"CREATE TEMP TABLE {table} AS {_parquet_select(con, path)}")
    con.execute(
        f"CREATE TEMP TABLE {rejects} "
        "(row_number BIGINT, field VARCHAR, reason VARCHAR, line_text VARCHAR)"
    )


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, rejects: str) -> None:
    options = (
        "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
        f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        "rejects_table = 'ip_csv_reject_errors', rejects_scan = 'ip_csv_reject_scans'"
    )
    _drop_csv_scratch(con)
    con.execute(
        f"CREATE TEMP TABLE ip_csv_raw AS SELECT * FROM read_csv(?, {options})", [str(path)]
    )
    names = [r[0] for r in con.execute("DESCRIBE ip_csv_raw").fetchall()]
    renames = ", ".join(f'"{n}" AS "{n.strip().lower()}"' for n in names if '"' not in n)
    reasons = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _DUCKDB_REJECT_REASONS.items())
    con.execute(
        f"""
        CREATE TEMP TABLE {rejects} AS
        SELECT line - 1 AS row_number,
               coalesce(min(column_name), 'row') AS field,
               CASE CAST(min(error_type) AS VARCHAR) {reasons} ELSE 'unparseable_row' END AS reason,
               min(csv_line) AS line_text
        FROM ip_csv_reject_errors GROUP BY line
        """
    )
    # ip_csv_raw.rowid is file order among good rows; shift it past the rejected rows before it.
    con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        WITH numbered AS (SELECT rowid + 1 AS k, {renames} FROM ip_csv_raw),
        all_rows AS (
            SELECT i AS row_number FROM range(1, (SELECT count(*) FROM numbered)
                                                 + (SELECT count(*) FROM {rejects}) + 1) AS t(i)
            WHERE i NOT IN (SELECT row_number FROM {rejects})
        ),
        good AS (SELECT row_number, row_number() OVER (ORDER BY row_number) AS k FROM all_rows)
        SELECT good.row_number, numbered.* EXCLUDE (k)
        FROM numbered JOIN good USING (k)
        ORDER BY good.row_number
        """
    )
    _drop_csv_scratch(con)


def _drop_csv_scratch(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "DROP TABLE IF EXISTS ip_csv_raw; DROP TABLE IF EXISTS ip_csv_reject_errors; "
        "DROP TABLE IF EXISTS ip_csv_reject_scans"
    )


def require_columns(
    path: Path,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    any_of: tuple[str, ...] = (),
) -> None:
    """InputFileError naming what is missing (and what was found) unless `columns` has every
    `required` column and, when `any_of` is given, at least one of those."""
    missing = [c for c in required if c not in columns]
    if any_of and not any(c in columns for c in any_of):
        missing.append(" or ".join(any_of))
    if missing:
        raise InputFileError(
            path,
            f"missing column(s): {', '.join(missing)}; found: {describe_columns(list(columns))}"
            f"{delimiter_hint(list(columns))}",
        )


def require_any_column(
    path: Path, columns: tuple[str, ...], any_of: tuple[str, ...], what: str
) -> None:
    """InputFileError ("no `what` column", naming what was expected and found) unless
    `columns` has at least one of `any_of`."""
    if not any(c in columns for c in any_of):
        raise InputFileError(
            path,
            f"no {what} column; expected one of {', '.join(any_of)}; found: "
            f"{describe_columns(list(columns))}{delimiter_hint(list(columns))}",
        )
