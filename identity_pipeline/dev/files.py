"""How the sample-data generators write files: one COPY per file, renamed into place."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from identity_pipeline.warehouse import execute

if TYPE_CHECKING:
    import duckdb


@contextmanager
def writer_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for writing sample files: bounded memory, rows kept in query order."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = '2GB'; SET preserve_insertion_order = true")
        yield con
    finally:
        con.close()


def file_ranges(total: int, per_file: int) -> Iterator[tuple[int, int, int]]:
    """(file index, first row, row after the last) for `total` rows in files of `per_file`."""
    for index, start in enumerate(range(0, total, per_file)):
        yield index, start, min(total, start + per_file)


def copy_to_file(
    con: duckdb.DuckDBPyConnection,
    query: str,
    path: Path,
    options: str,
    params: dict[str, object],
) -> Path:
    """COPY the query's rows to `path` (COPY options such as "FORMAT parquet") through a hidden
    .partial file renamed into place, so readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.partial")
    literal = str(tmp).replace("'", "''")
    execute(con, f"COPY ({query}) TO '{literal}' ({options})", params)
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class GeneratedFiles:
    paths: tuple[Path, ...]
    rows: int


def write_row_files(
    query: str,
    target: Path,
    stem: str,
    rows: int,
    per_file: int,
    formats: Sequence[tuple[str, str]],
    params: Callable[[int, int], dict[str, object]],
    *,
    prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> GeneratedFiles:
    """Rows [0, rows) of `query` in files of `per_file` rows, target/{stem}_{index:04d}.{suffix},
    cycling through `formats` (suffix, COPY options); `params(start, stop)` binds a file's rows.
    `prepare` runs first on the writer connection (temp tables the query reads)."""
    target.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with writer_connection() as con:
        if prepare is not None:
            prepare(con)
        for index, start, stop in file_ranges(rows, per_file):
            suffix, options = formats[index % len(formats)]
            path = target / f"{stem}_{index:04d}.{suffix}"
            paths.append(copy_to_file(con, query, path, options, params(start, stop)))
    return GeneratedFiles(tuple(paths), rows)
