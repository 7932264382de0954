"""Versioned Parquet snapshots of DuckDB tables for Spark to read, with a LATEST pointer.

A snapshot is a folder <lake>/_snapshots/<name>/<version>/ holding <table>.parquet for each
table. It is written under a hidden temporary name and renamed into place when complete;
only then is <name>/LATEST (one line: the version) replaced, atomically. A reader that
follows LATEST therefore never sees half a snapshot, and a run reads one version throughout.
DuckDB writes the files, so the lake must be a path on this machine (or a mounted one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

SNAPSHOTS = "_snapshots"
POINTER = "LATEST"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish_snapshot(
    con: duckdb.DuckDBPyConnection, lake: Path, name: str, tables: Sequence[str]
) -> str:
    """Copy `tables` into a new version of snapshot `name`; returns the version."""
    root = lake / SNAPSHOTS / name
    root.mkdir(parents=True, exist_ok=True)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    staging = root / f".{version}.tmp"
    staging.mkdir()
    for table in tables:
        target = _sql_string(str(staging / f"{table}.parquet"))
        con.execute(f'COPY (SELECT * FROM "{table}") TO {target} (FORMAT parquet)')
    staging.rename(root / version)
    pointer_tmp = root / f".{POINTER}.{version}.tmp"
    pointer_tmp.write_text(version + "\n", encoding="utf-8")
    pointer_tmp.replace(root / POINTER)
    return version


def latest_snapshot(lake: str, name: str) -> str:
    """URI of the latest complete version of snapshot `name` (the folder LATEST names)."""
    root = f"{lake.rstrip('/')}/{SNAPSHOTS}/{name}"
    pointer = Path(root) / POINTER
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no published snapshot {name!r} under {lake}: {pointer} is missing"
        ) from None
    if not version:
        raise ValueError(f"{pointer} is empty")
    return f"{root}/{version}"
