"""The lake Spark reads and writes: versioned snapshots and day partitions, in two stores.

Layout (the same in both): <lake>/<table>/day=YYYY-MM-DD/ for day-partitioned tables
(impressions, conversions and Spark's outputs), <lake>/_snapshots/<name>/<version>/<table>.parquet
for snapshots of tables without days (identities, mappings, opt-outs).

- A plain path (`LocalLake`): DuckDB writes and reads the files, no Spark session needed.
  A snapshot version is written under a hidden name and renamed into place; then
  <name>/LATEST (one line: the version) is replaced, atomically. A day is written aside and
  swapped in.
- Any URI, file:// included (`SparkLake`): the Spark session writes and reads, so the lake
  can be wherever the cluster reads (s3a://, hdfs://, abfss://). DuckDB's rows go to Spark as
  Arrow record batches (engine.transfer); nothing calls a file system from Python, so it works
  over Spark Connect as with a classic master. Object stores have no atomic rename, so a
  snapshot is committed by a record: every table of the version is written first, then a
  one-row Parquet file under <name>/commits/version=<v>/; a reader takes the newest committed
  version and never sees half a snapshot.

Publishing a day range replaces exactly those days; a day without rows gets an empty file, so
a stale day cannot survive a rerun. Spark's outputs come back the other way (load_days):
DuckDB replaces a day range of its own table with the lake's rows of those days.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from identity_pipeline.engine.transfer import (
    BATCH_ROWS,
    arrow_from_spark,
    frame_from_duckdb,
    frames_from_duckdb,
    insert_arrow,
)
from identity_pipeline.warehouse import transaction

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SNAPSHOTS = "_snapshots"
POINTER = "LATEST"
COMMITS = "commits"
COMMIT_SCHEMA = "version STRING, tables STRING, committed_at TIMESTAMP_NTZ"
_DAY_IN_PATH = re.compile(r"/day=(\d{4}-\d{2}-\d{2})/")


class LakeError(RuntimeError):
    """Spark could not read or write the lake; names the lake (credentials removed) and table."""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def is_uri(lake: str) -> bool:
    """s3a://…, hdfs://…, file:/… (a scheme before the first slash), not a plain path."""
    return ":" in lake.split("/", 1)[0]


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*:[^/@\s]*@")
_QUERY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s?'\"]*)\?[^\s'\"]*")


def redact(text: str) -> str:
    """`text` with credentials taken out of any URI in it: user:password@ and ?query
    (SAS tokens, signed-URL parameters)."""
    return _QUERY.sub(r"\1", _USERINFO.sub(r"\1***@", text))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def _new_version() -> str:
    """Sorts by time: the newest version is the greatest string."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


class LocalLake:
    """A lake on a path of this machine (or a mounted one); DuckDB writes and reads it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def uri(self) -> str:
        return str(self.root)

    def missing_days(self, table: str, start: date, end: date) -> list[date]:
        return [d for d in _days(start, end) if not (self.root / table / f"day={d}").is_dir()]

    def load_days(self, con: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> int:
        absent = self.missing_days(table, start, end)
        if absent:
            raise FileNotFoundError(f"{self.root / table}: no folder for day(s) {absent[:3]}")
        files = ", ".join(
            _sql_string(str(self.root / table / f"day={d}" / "*.parquet"))
            for d in _days(start, end)
        )
        source = (
            f"read_parquet([{files}], hive_partitioning = true, hive_types = {{'day': 'DATE'}}, "
            "union_by_name = true)"
        )
        with transaction(con):
            con.execute(f'DELETE FROM "{table}" WHERE day >= ? AND day < ?', [start, end])
            if files:
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {source}')
            row = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE day >= ? AND day < ?', [start, end]
            ).fetchone()
        return int(row[0]) if row else 0

    def publish_snapshot(
        self, con: duckdb.DuckDBPyConnection, name: str, tables: Sequence[str]
    ) -> str:
        root = self.root / SNAPSHOTS / name
        root.mkdir(parents=True, exist_ok=True)
        version = _new_version()
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

    def has_snapshot(self, name: str) -> bool:
        return (self.root / SNAPSHOTS / name / POINTER).exists()

    def latest_snapshot(self, name: str) -> str:
        root = self.root / SNAPSHOTS / name
        pointer = root / POINTER
        try:
            version = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no published snapshot {name!r} under {self.root}: {pointer} is missing"
            ) from None
        if not version:
            raise ValueError(f"{pointer} is empty")
        return f"{root}/{version}"

    def publish_days(
        self, con: duckdb.DuckDBPyConnection, table: str, start: date, end: date
    ) -> dict[date, int]:
        root = self.root / table
        root.mkdir(parents=True, exist_ok=True)
        counts = _day_counts(con, table, start, end)
        tag = uuid.uuid4().hex[:8]
        for day in _days(start, end):
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


class SparkLake:
    """A lake at any URI the cluster reads and writes; the Spark session does all the I/O.

    `session` is called on first use only (a lazy SparkResource's `session`)."""

    def __init__(self, uri: str, session: Callable[[], SparkSession]) -> None:
        self.uri = uri.rstrip("/")
        self._session = session

    @property
    def session(self) -> SparkSession:
        return self._session()

    def table_uri(self, table: str) -> str:
        return f"{self.uri}/{table}"

    def day_uri(self, table: str, day: date) -> str:
        return f"{self.uri}/{table}/day={day.isoformat()}"

    @contextmanager
    def _spark_io(self, what: str) -> Iterator[None]:
        """Spark's own errors (an unknown scheme, missing credentials, …) wrapped with the
        lake and table named; credentials never appear in the message."""
        try:
            yield
        except (FileNotFoundError, LakeError, duckdb.Error):  # not Spark's: as they are
            raise
        except Exception as error:
            text = str(error).split("\n\nJVM stacktrace", 1)[0]
            lines = [line.strip() for line in text.splitlines()]
            message = " ".join(line for line in lines if line and not line.startswith("at "))
            raise LakeError(
                f"lake {redact(self.uri)}: {what} failed: {redact(message)[:1500]}"
            ) from None

    def _present_days(self, table: str) -> set[str]:
        """Days of the table that have a folder with files (one listing, no scan)."""
        from pyspark.errors import AnalysisException

        try:
            files = self.session.read.schema("`day` DATE").parquet(self.table_uri(table))
            listed = files.inputFiles()
        except AnalysisException as error:
            if _condition(error) == "PATH_NOT_FOUND":
                return set()
            raise
        return {match.group(1) for f in listed if (match := _DAY_IN_PATH.search(f))}

    def missing_days(self, table: str, start: date, end: date) -> list[date]:
        with self._spark_io(f"listing table {table}"):
            present = self._present_days(table)
        return [day for day in _days(start, end) if day.isoformat() not in present]

    def load_days(self, con: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> int:
        absent = self.missing_days(table, start, end)
        if absent:
            raise FileNotFoundError(
                f"{redact(self.table_uri(table))}: no folder for day(s) {absent[:3]}"
            )
        days = _days(start, end)
        rows = None
        if days:
            with self._spark_io(f"reading table {table}"):
                frame = self.session.read.option("basePath", self.table_uri(table)).parquet(
                    *[self.day_uri(table, day) for day in days]
                )
                rows = arrow_from_spark(frame)
        with transaction(con):
            con.execute(f'DELETE FROM "{table}" WHERE day >= ? AND day < ?', [start, end])
            if rows is not None:
                insert_arrow(con, table, rows)
            row = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE day >= ? AND day < ?', [start, end]
            ).fetchone()
        return int(row[0]) if row else 0

    def _write(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object], uri: str
    ) -> None:
        """A DuckDB query's rows as Parquet at `uri` (a folder), replacing what was there."""
        for n, frame in enumerate(frames_from_duckdb(con, self.session, sql, params)):
            frame.write.mode("overwrite" if n == 0 else "append").parquet(uri)

    def publish_snapshot(
        self, con: duckdb.DuckDBPyConnection, name: str, tables: Sequence[str]
    ) -> str:
        version = _new_version()
        root = f"{self.uri}/{SNAPSHOTS}/{name}"
        for table in tables:
            with self._spark_io(f"writing snapshot {name} table {table}"):
                target = f"{root}/{version}/{table}.parquet"
                self._write(con, f'SELECT * FROM "{table}"', (), target)
        # Only now is the version committed: a reader takes the newest committed version.
        with self._spark_io(f"committing snapshot {name}"):
            record = self.session.createDataFrame(
                [(version, ",".join(tables), datetime.now(UTC).replace(tzinfo=None))],
                schema=COMMIT_SCHEMA,
            )
            record.write.mode("error").parquet(f"{root}/{COMMITS}/version={version}")
        return version

    def _latest_version(self, name: str) -> str | None:
        from pyspark.errors import AnalysisException
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own idiom

        commits = f"{self.uri}/{SNAPSHOTS}/{name}/{COMMITS}"
        with self._spark_io(f"reading snapshot {name}'s commits"):
            try:
                # The version is a column of each record: no partition inference from folders.
                records = (
                    self.session.read.schema(COMMIT_SCHEMA)
                    .option("recursiveFileLookup", "true")
                    .parquet(commits)
                )
                row = records.agg(F.max("version").alias("version")).first()
            except AnalysisException as error:
                if _condition(error) == "PATH_NOT_FOUND":
                    return None
                raise
        return None if row is None else row["version"]

    def has_snapshot(self, name: str) -> bool:
        return self._latest_version(name) is not None

    def latest_snapshot(self, name: str) -> str:
        version = self._latest_version(name)
        if version is None:
            raise FileNotFoundError(
                f"no published snapshot {name!r} under {redact(self.uri)}: no commit record "
                f"under {SNAPSHOTS}/{name}/{COMMITS}"
            )
        return f"{self.uri}/{SNAPSHOTS}/{name}/{version}"

    def publish_days(
        self, con: duckdb.DuckDBPyConnection, table: str, start: date, end: date
    ) -> dict[date, int]:
        counts = _day_counts(con, table, start, end)
        # Days with rows go in groups of whole days up to BATCH_ROWS rows, one Spark write
        # each, with dynamic partition overwrite: exactly the group's days are replaced. A
        # bigger day is written alone, in batches; a day without rows gets a schema-only file.
        for group in _day_groups(counts, BATCH_ROWS):
            first, last = group[0], group[-1]
            with self._spark_io(f"writing table {table} days {first}..{last}"):
                if len(group) == 1:
                    self._write_day(con, table, first)
                    continue
                frame = frame_from_duckdb(
                    con,
                    self.session,
                    f'SELECT * FROM "{table}" WHERE day >= ? AND day <= ?',
                    (first, last),
                )
                (
                    frame.write.mode("overwrite")
                    .option("partitionOverwriteMode", "dynamic")
                    .partitionBy("day")
                    .parquet(self.table_uri(table))
                )
        for day in _days(start, end):
            if day not in counts:
                with self._spark_io(f"writing table {table} day {day}"):
                    self._write_day(con, table, day)
        return counts

    def _write_day(self, con: duckdb.DuckDBPyConnection, table: str, day: date) -> None:
        sql = f'SELECT * EXCLUDE (day) FROM "{table}" WHERE day = ?'
        self._write(con, sql, (day,), self.day_uri(table, day))


def _day_groups(counts: dict[date, int], limit: int) -> list[list[date]]:
    """Days in order, packed into consecutive groups of at most `limit` rows (a day over the
    limit is a group of its own)."""
    groups: list[list[date]] = []
    rows = 0
    for day in sorted(counts):
        if groups and rows + counts[day] <= limit:
            groups[-1].append(day)
            rows += counts[day]
        else:
            groups.append([day])
            rows = counts[day]
    return groups


Lake = LocalLake | SparkLake


def _condition(error: Exception) -> str | None:
    condition = getattr(error, "getCondition", None)
    return condition() if callable(condition) else None


def _day_counts(
    con: duckdb.DuckDBPyConnection, table: str, start: date, end: date
) -> dict[date, int]:
    return {
        day: int(rows)
        for day, rows in con.execute(
            f'SELECT day, count(*) FROM "{table}" WHERE day >= ? AND day < ? GROUP BY day',
            [start, end],
        ).fetchall()
    }


def open_lake(lake: Lake | Path | str, session: Callable[[], SparkSession] | None = None) -> Lake:
    """The lake for `lake`: a plain path is a LocalLake (DuckDB does the I/O); any URI,
    file:// included, a SparkLake on `session` (called on first use), required then."""
    if isinstance(lake, LocalLake | SparkLake):
        return lake
    if isinstance(lake, Path):
        return LocalLake(lake)
    if not is_uri(lake):
        return LocalLake(Path(lake))
    if session is None:
        raise ValueError(
            f"the lake {redact(lake)} is a URI: the Spark session writes and reads it, so a "
            "Spark session is needed (a plain path needs none)"
        )
    return SparkLake(lake, session)


def missing_days(lake: Lake | Path | str, table: str, start: date, end: date) -> list[date]:
    """Days of [start, end) with no folder in the lake table (never published)."""
    return open_lake(lake).missing_days(table, start, end)


def load_days(
    con: duckdb.DuckDBPyConnection, lake: Lake | Path | str, table: str, start: date, end: date
) -> int:
    """Replace days [start, end) of DuckDB's `table` with the lake table's rows of those days,
    in one transaction; returns the rows loaded. Every day of the range must be in the lake
    (Spark writes an empty file for a day without rows)."""
    return open_lake(lake).load_days(con, table, start, end)


def publish_snapshot(
    con: duckdb.DuckDBPyConnection, lake: Lake | Path | str, name: str, tables: Sequence[str]
) -> str:
    """Copy `tables` into a new version of snapshot `name`; returns the version."""
    return open_lake(lake).publish_snapshot(con, name, tables)


def latest_snapshot(lake: Lake | Path | str, name: str) -> str:
    """URI of the latest complete version of snapshot `name`: the folder LATEST names on a
    path, the newest committed version on a URI."""
    return open_lake(lake).latest_snapshot(name)


def publish_days(
    con: duckdb.DuckDBPyConnection, lake: Lake | Path | str, table: str, start: date, end: date
) -> dict[date, int]:
    """Replace days [start, end) of the lake table `table` with DuckDB's rows; rows per day."""
    return open_lake(lake).publish_days(con, table, start, end)
