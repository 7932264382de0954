"""The `hash` command: one output row per input row, via the same normalize_view as `dii`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from identity_pipeline.landing.readers import (
    InputFileError,
    describe_columns,
    load_file,
    open_parquet,
    read_errors,
    sanitized,
)
from identity_pipeline.normalize.values import normalize_view

OUTPUT_COLUMNS = ("value", "dii_type", "normalized", "uid2_hash", "id5_hash", "error")
_DEFAULT_COLUMNS = {"email": ("email", "value"), "phone": ("phone", "value"), None: ("value",)}
_TYPE_LITERALS = {None: "NULL", "email": "'email'", "phone": "'phone'"}
INFERRED_TYPES = ("email", "phone")
"""Without --type, a column with one of these names gives its values that type; any other
column types each value by itself ('@' means email)."""
PARQUET_OPTIONS = "COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1"


@dataclass(frozen=True)
class HashSummary:
    rows: int
    valid: int
    invalid: int


def _pick_column(
    path: Path, columns: tuple[str, ...], column: str | None, dii_type: str | None
) -> str:
    if column is not None:
        if column.strip().lower() not in columns:
            raise InputFileError(
                path, f"column '{column}' not found; columns are: {describe_columns(list(columns))}"
            )
        return column.strip().lower()
    for candidate in _DEFAULT_COLUMNS[dii_type]:
        if candidate in columns:
            return candidate
    if len(columns) == 1:
        return columns[0]
    raise InputFileError(
        path,
        f"say which column to hash with --column; columns are: {describe_columns(list(columns))}",
    )


def hash_file(
    source: Path,
    target: Path,
    *,
    column: str | None = None,
    dii_type: str | None = None,
    default_region: str = "US",
) -> HashSummary:
    """Normalize and hash one column of `source` into `target` (.csv or .parquet), in order.

    One streaming query reads, normalizes, hashes and writes: Parquet input is read where it
    lies, and the output rows come out in input order without a sort (see normalize_view).
    """
    for path in (source, target):
        if path.suffix.lower() not in (".csv", ".parquet"):
            raise InputFileError(path, "must end in .csv or .parquet")
    if not source.is_file():
        raise InputFileError(source, "no such file")
    if dii_type not in _TYPE_LITERALS:
        raise ValueError("--type must be 'email' or 'phone'")
    con = duckdb.connect()
    try:
        columns = _open_source(con, source)
        name = _pick_column(source, columns, column, dii_type)
        if dii_type is None and name in INFERRED_TYPES:
            dii_type = name  # a column named email holds emails, even 'not-an-email'
        con.execute(
            f"""
            CREATE TEMP VIEW ip_hash_values AS
            SELECT "{name}" AS value, CAST({_TYPE_LITERALS[dii_type]} AS VARCHAR) AS dii_type,
                   CAST(NULL AS VARCHAR) AS region
            FROM ip_hash_input
            """
        )
        with read_errors(source):
            view = normalize_view(con, "ip_hash_values", default_region)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            summary = _write(con, view, partial)
        except duckdb.Error as error:
            partial.unlink(missing_ok=True)
            if str(partial) in str(error):
                raise InputFileError(target, f"cannot write: {sanitized(error)}") from None
            raise InputFileError(source, f"unreadable: {sanitized(error)}") from None
        partial.replace(target)
    finally:
        con.close()
    return summary


def _open_source(con: duckdb.DuckDBPyConnection, source: Path) -> tuple[str, ...]:
    """Temp view/table ip_hash_input over `source`; Parquet is read in place, CSV loaded."""
    if source.suffix.lower() == ".parquet":
        return open_parquet(con, source, "ip_hash_input")
    loaded = load_file(con, source, "ip_hash_input", "ip_hash_rejects")
    if loaded.reject_count:
        line = con.execute("SELECT min(row_number) FROM ip_hash_rejects").fetchone()
        raise InputFileError(
            source,
            f"{loaded.reject_count} row(s) unreadable, first at data row "
            f"{line[0] if line else '?'} (malformed CSV or not UTF-8)",
        )
    return loaded.columns


def _write(con: duckdb.DuckDBPyConnection, view: str, partial: Path) -> HashSummary:
    """COPY the normalized rows to `partial`; count valid rows without a second pass."""
    query = (
        "SELECT value, dii_type, normalized, uid2_hash, id5_hash, coalesce(error, '') AS error "
        f"FROM {view}"
    )
    literal = str(partial).replace("'", "''")
    if partial.name.lower().endswith(".parquet.partial"):
        # Hashes do not compress and dictionaries of 2M distinct strings are wasted work:
        # both cost more time than they save in file size. The statistics Parquet keeps
        # anyway give the invalid count (uid2_hash is NULL exactly when error is set).
        result = con.execute(
            f"COPY ({query}) TO '{literal}' (FORMAT parquet, {PARQUET_OPTIONS}, RETURN_STATS)"
        ).fetchone()
        rows = int(result[1]) if result else 0
        stats = result[4] if result else {}
        invalid = int(stats.get('"uid2_hash"', {}).get("null_count", rows))
        return HashSummary(rows=rows, valid=rows - invalid, invalid=invalid)
    con.execute(f"COPY ({query}) TO '{literal}' (FORMAT csv, HEADER true)")
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE coalesce(error, '') = '') "
        "FROM read_csv(?, header = true, all_varchar = true)",
        [str(partial)],
    ).fetchone()
    rows, valid = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    return HashSummary(rows=rows, valid=valid, invalid=rows - valid)
