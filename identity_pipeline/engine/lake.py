"""What DuckDB publishes to the lake for Spark: versioned snapshots and day partitions.

Snapshots (tables without days: identities, mappings, opt-outs): a snapshot is a folder
<lake>/_snapshots/<name>/<version>/ holding <table>.parquet for each table. It is written
under a hidden temporary name and renamed into place when complete; only then is
<name>/LATEST (one line: the version) replaced, atomically. A reader that follows LATEST
therefore never sees half a snapshot, and a run reads one version throughout.

Day partitions (impressions, conversions): <lake>/<table>/day=YYYY-MM-DD/, the layout Spark's
own outputs use. Publishing a day range replaces exactly those days; each day's folder is
written aside and swapped in, and a day without rows gets an empty file, so a stale day
cannot survive a rerun.

DuckDB writes the files, so the lake must be a path on this machine (or a mounted one).
Spark's outputs come back the other way (load_days): DuckDB replaces a day range of its own
table with the lake's rows of those days, so every reader of the warehouse sees them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from identity_pipeline.warehouse import transaction

SNAPSHOTS = "_snapshots"
POINTER = "LATEST"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def local_lake(lake: str) -> Path:
    """The lake as a local path for DuckDB to write: a plain path or a file: URI. Any other
    URI (s3a://, hdfs://) is an error: DuckDB publishes the snapshots and day partitions."""
    if lake.startswith("file://"):
        return Path(lake.removeprefix("file://"))
    if lake.startswith("file:"):
        return Path(lake.removeprefix("file:"))
    if ":" in lake.split("/", 1)[0]:
        scheme = lake.split(":", 1)[0]
        raise ValueError(
            f"$IDENTITY_PIPELINE_LAKE is a {scheme}: URI; DuckDB publishes the lake's inputs, "
            "so it must be a path on this machine (mount the cluster's storage there)"
        )
    return Path(lake)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def missing_days(lake: Path, table: str, start: date, end: date) -> list[date]:
    """Days of [start, end) with no folder in the lake table (never published)."""
    return [day for day in _days(start, end) if not (lake / table / f"day={day}").is_dir()]


def load_days(
    con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date, end: date
) -> int:
    """Replace days [start, end) of DuckDB's `table` with the lake table's rows of those days,
    in one transaction; returns the rows loaded. Every day of the range must be in the lake
    (Spark writes an empty file for a day without rows)."""
    absent = missing_days(lake, table, start, end)
    if absent:
        raise FileNotFoundError(f"{lake / table}: no folder for day(s) {absent[:3]}")
    files = ", ".join(
        _sql_string(str(lake / table / f"day={d}" / "*.parquet")) for d in _days(start, end)
    )
    source = (
        f"read_parquet([{files}], hive_partitioning = true, hive_types = {{'day': 'DATE'}}, "
        "union_by_name = true)"
    )
    with transaction(con):
        con.execute(f'DELETE FROM "{table}" WHERE day >= ? AND day < ?', [start, end])
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {source}')
        row = con.execute(
            f'SELECT count(*) FROM "{table}" WHERE day >= ? AND day < ?', [start, end]
        ).fetchone()
    return int(row[0]) if row else 0


def publish_snapshot(
    con: duckdb.DuckDBPyConnection, lake: Path, name: str, tables: Sequence[str]
) -> str:
    """Copy `tables` into a new version of snapshot `name`; returns the version."""
    root = lake / SNAPSHOTS / name
    root.mkdir(parents=True, exist_ok=True)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    staging = root / f".{version}.tmp"
    staging.mkdir()
    try:
        for table in tables:
            target = _sql_string(str(staging / f"{table}.parquet"))
            con.execute(f'COPY (SELECT * FROM "{table}") TO {target} (FORMAT parquet)')
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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


def publish_days(
    con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date, end: date
) -> dict[date, int]:
    """Replace days [start, end) of the lake table `table` with DuckDB's rows; rows per day."""
    root = lake / table
    root.mkdir(parents=True, exist_ok=True)
    counts = {
        day: int(rows)
        for day, rows in con.execute(
            f'SELECT day, count(*) FROM "{table}" WHERE day >= ? AND day < ? GROUP BY day',
            [start, end],
        ).fetchall()
    }
    tag = uuid.uuid4().hex[:8]
    for offset in range((end - start).days):
        day = start + timedelta(days=offset)
        staging = root / f".day={day.isoformat()}.{tag}.tmp"
        staging.mkdir()
        target = _sql_string(str(staging / "part-0.parquet"))
        con.execute(
            f'COPY (SELECT * EXCLUDE (day) FROM "{table}" WHERE day = DATE '
            f"'{day.isoformat()}') TO {target} (FORMAT parquet)"
        )
        final = root / f"day={day.isoformat()}"
        if final.exists():
            retired = root / f".day={day.isoformat()}.{tag}.old"
            final.rename(retired)
            staging.rename(final)
            shutil.rmtree(retired)
        else:
            staging.rename(final)
    return counts
