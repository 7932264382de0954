"""Which files a landing folder holds, what their bytes are (sha256), and which of them are new
or changed since the warehouse last read them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from identity_pipeline.landing.readers import (
    SUPPORTED_SUFFIXES,
    InputFileError,
    LoadedFile,
    has_suffix,
    load_file,
)


@dataclass
class FileReport:
    """What one pass over a landing folder did; counts and messages, never file content."""

    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_failed: list[str] = field(default_factory=list)
    """'path: reason' per file that could not be read."""
    rows_loaded: int = 0
    rows_rejected: int = 0
    """Rows of loaded files that were not used (the domain's rejects table says why)."""


@dataclass(frozen=True)
class ChangedFile:
    path: Path
    rel: str
    """Relative to the folder, with forward slashes: the key the warehouse stores."""
    checksum: str
    size: int


def list_landed_files(
    directory: Path, suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES
) -> list[Path]:
    """Files under `directory` ending in one of `suffixes` (CSV and Parquet unless told),
    sorted; hidden (partial) files are skipped."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and has_suffix(p, suffixes) and not p.name.startswith(".")
    )


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def changed_since(
    directory: Path,
    known: Mapping[str, str],
    report: FileReport,
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
) -> Iterator[ChangedFile]:
    """Files whose checksum differs from `known` (rel -> checksum last read); counts every
    file seen and every unchanged one in `report`."""
    for path in list_landed_files(directory, suffixes):
        report.files_seen += 1
        rel = path.relative_to(directory).as_posix()
        checksum = file_checksum(path)
        if known.get(rel) == checksum:
            report.files_unchanged += 1
            continue
        yield ChangedFile(path, rel, checksum, path.stat().st_size)


@dataclass(frozen=True)
class Ledger:
    """A domain's file ledger: the table (our own name) holding what the warehouse last read of
    each landed file, one row per file_path, or per `key` columns and file_path (e.g.
    {"kind": "impressions"} in a table several folders share)."""

    table: str
    key: Mapping[str, object] = field(default_factory=dict)
    records_size: bool = False
    """The table has size_bytes, written with every row."""
    failure_clears: tuple[str, ...] = ()
    """Columns a failed version sets to NULL; the others keep the last loaded version's."""

    def unread(
        self,
        con: duckdb.DuckDBPyConnection,
        directory: Path,
        report: FileReport,
        suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
    ) -> Iterator[ChangedFile]:
        """changed_since against the ledger's checksums (of its `key` rows)."""
        where = " AND ".join(f"{name} = ${name}" for name in self.key) or "true"
        known = dict(
            con.execute(
                f"SELECT file_path, checksum FROM {self.table} WHERE {where}", dict(self.key)
            ).fetchall()
        )
        return changed_since(directory, known, report, suffixes)

    def record(
        self,
        con: duckdb.DuckDBPyConnection,
        file: ChangedFile,
        seen_at: datetime,
        *,
        error: str | None = None,
        **columns: object,
    ) -> None:
        """Upsert what the warehouse read of `file`: its checksum, status ('failed' with
        `error`, else 'loaded'), error and seen_at, size_bytes when the table records sizes,
        plus `columns` (e.g. row_count). A column not named keeps what the row held, so a
        failed version keeps the counts of the last loaded one but for `failure_clears` (or
        columns passed as None)."""
        values: dict[str, object] = {
            **self.key,
            "file_path": file.rel,
            "checksum": file.checksum,
            "status": "failed" if error else "loaded",
            "error": error,
            "seen_at": seen_at,
        }
        if self.records_size:
            values["size_bytes"] = file.size
        if error is not None:
            values.update(dict.fromkeys(self.failure_clears))
        values.update(columns)
        conflict = [*self.key, "file_path"]
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name not in conflict)
        con.execute(
            f"INSERT INTO {self.table} ({', '.join(values)}) "
            f"VALUES ({', '.join(f'${name}' for name in values)}) "
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}",
            values,
        )


def loaded_files(
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    directory: Path,
    report: FileReport,
    scratch: str,
    check: Callable[[Path, tuple[str, ...]], None],
    now: datetime,
    *,
    label: str = "",
) -> Iterator[tuple[ChangedFile, LoadedFile]]:
    """The per-file loop every landing folder shares: each file of `directory` the `ledger`
    has not read as it is now is read into temp tables `{scratch}_file` and
    `{scratch}_file_rejects`, then `check`ed (path, columns; raises InputFileError, e.g.
    readers.require_columns). A file that cannot be used is recorded in the ledger as failed
    (seen at `now`), listed in report.files_failed as "{label}{rel}: reason" and skipped; the
    others are yielded with what was loaded."""
    for file in ledger.unread(con, directory, report):
        try:
            loaded = load_file(con, file.path, f"{scratch}_file", f"{scratch}_file_rejects")
            check(file.path, loaded.columns)
        except InputFileError as error:
            ledger.record(con, file, now, error=error.reason)
            report.files_failed.append(f"{label}{file.rel}: {error.reason}")
            continue
        yield file, loaded
