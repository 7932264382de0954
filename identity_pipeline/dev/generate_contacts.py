"""Deterministic, messy sample CRM exports for demos, tests and benchmarks.

Rows are produced by DuckDB SQL (sql/select_generated_contacts.sql) and streamed to disk one file at
a time with COPY, so 10M rows need no more memory than one file's worth of sorting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from identity_pipeline.dev.files import copy_to_file, file_ranges, writer_connection
from identity_pipeline.warehouse import select_sql

DEFAULT_SEED = 42
DEFAULT_ROWS_PER_FILE = 1_000_000
DISTINCT_PEOPLE_RATIO = 0.8
"""Rows per distinct person: the rest are the same people again, in other files and spellings."""


@dataclass(frozen=True)
class GeneratedFiles:
    paths: tuple[Path, ...]
    rows: int


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
    target = out_dir / "contacts"
    target.mkdir(parents=True, exist_ok=True)
    per_file = max(1, min(rows_per_file, (rows + 1) // 2))
    query = select_sql("identity_pipeline.dev", "select_generated_contacts.sql")
    paths: list[Path] = []
    with writer_connection() as con:
        for index, start, stop in file_ranges(rows, per_file):
            suffix = "csv" if index % 2 == 0 else "parquet"
            path = target / f"contacts_seed{seed}_{index:04d}.{suffix}"
            options = "FORMAT csv, HEADER true" if suffix == "csv" else "FORMAT parquet"
            params = contacts_params(rows, seed, start, stop)
            paths.append(copy_to_file(con, query, path, options, params))
    return GeneratedFiles(tuple(paths), rows)
