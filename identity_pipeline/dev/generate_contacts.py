"""Deterministic, messy sample CRM exports for demos, tests and benchmarks.

Rows are produced by DuckDB SQL (sql/select_generated_contacts.sql) and streamed to disk one file at
a time with COPY, so 10M rows need no more memory than one file's worth of sorting.
"""

from __future__ import annotations

from pathlib import Path

from identity_pipeline.dev.files import GeneratedFiles, write_row_files
from identity_pipeline.warehouse import select_sql

DEFAULT_SEED = 42
DEFAULT_ROWS_PER_FILE = 1_000_000
DISTINCT_PEOPLE_RATIO = 0.8
"""Rows per distinct person: the rest are the same people again, in other files and spellings."""
FORMATS = (("csv", "FORMAT csv, HEADER true"), ("parquet", "FORMAT parquet"))
"""Files alternate CSV and Parquet, as CRM exports come in both."""


def contacts_params(rows: int, seed: int, start: int, stop: int) -> dict[str, object]:
    """Parameters of select_generated_contacts.sql for rows [start, stop) of `rows` in all."""
    people = max(1, int(rows * DISTINCT_PEOPLE_RATIO))
    return {"seed": str(seed), "start": start, "stop": stop, "people": people}


def generate_contacts(
    rows: int, out_dir: Path, seed: int = DEFAULT_SEED, rows_per_file: int = DEFAULT_ROWS_PER_FILE
) -> GeneratedFiles:
    """Write `rows` contacts to out_dir/contacts/, alternating CSV and Parquet files."""
    if rows < 1:
        raise ValueError("--rows must be at least 1")
    per_file = max(1, min(rows_per_file, (rows + 1) // 2))
    query = select_sql("identity_pipeline.dev", "select_generated_contacts.sql")
    return write_row_files(
        query,
        out_dir / "contacts",
        f"contacts_seed{seed}",
        rows,
        per_file,
        FORMATS,
        lambda start, stop: contacts_params(rows, seed, start, stop),
    )
