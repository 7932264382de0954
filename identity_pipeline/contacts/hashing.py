"""The `hash` command: one output row per input row, via the same normalize_table as `dii`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from identity_pipeline.contacts.normalize import normalize_table
from identity_pipeline.contacts.readers import InputFileError, describe_columns, load_file

OUTPUT_COLUMNS = ("value", "dii_type", "normalized", "uid2_hash", "id5_hash", "error")
_DEFAULT_COLUMNS = {"email": ("email", "value"), "phone": ("phone", "value"), None: ("value",)}


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
    """Normalize and hash one column of `source` into `target` (.csv or .parquet), in order."""
    for path in (source, target):
        if path.suffix.lower() not in (".csv", ".parquet"):
            raise InputFileError(path, "must end in .csv or .parquet")
    if not source.is_file():
        raise InputFileError(source, "no such file")
    if dii_type not in (None, "email", "phone"):
        raise ValueError("--type must be 'email' or 'phone'")
    con = duckdb.connect()
    try:
        loaded = load_file(con, source, "ip_hash_input", "ip_hash_rejects")
        if loaded.reject_count:
            line = con.execute("SELECT min(row_number) FROM ip_hash_rejects").fetchone()
            raise InputFileError(
                source,
                f"{loaded.reject_count} row(s) unreadable, first at data row "
                f"{line[0] if line else '?'} (malformed CSV or not UTF-8)",
            )
        name = _pick_column(source, loaded.columns, column, dii_type)
        con.execute(
            f"""
            CREATE TEMP TABLE ip_hash_values AS
            SELECT row_number, "{name}" AS value, CAST(? AS VARCHAR) AS dii_type,
                   CAST(NULL AS VARCHAR) AS region
            FROM ip_hash_input
            """,
            [dii_type],
        )
        normalize_table(con, "ip_hash_values", "ip_hash_output", default_region)
        options = (
            "FORMAT parquet" if target.suffix.lower() == ".parquet" else "FORMAT csv, HEADER true"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        con.execute(
            f"""
            COPY (
                SELECT value, dii_type, normalized, uid2_hash, id5_hash,
                       coalesce(error, '') AS error
                FROM ip_hash_output ORDER BY row_number
            ) TO '{str(partial).replace("'", "''")}' ({options})
            """
        )
        partial.replace(target)
        counts = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE error IS NULL) FROM ip_hash_output"
        ).fetchone()
    finally:
        con.close()
    rows, valid = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    return HashSummary(rows=rows, valid=valid, invalid=rows - valid)
