"""DuckDB access: one short-lived connection at a time, schema on connect, lock-aware opening.

DuckDB lets one process hold a database file read-write. Dagster can run several processes
(a sensor's run beside a schedule's), so connections are opened late, held only around local
work (never across an HTTP call) and opening retries with backoff while another process holds
the file. See README "DuckDB and Dagster executors".
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from identity_pipeline.warehouse.sqlfiles import schema_scripts


class WarehouseLockedError(RuntimeError):
    """Another process kept the DuckDB file locked for longer than we were willing to wait."""


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error)
    return "Could not set lock" in text or "Conflicting lock" in text


def open_connection(
    path: Path, *, lock_timeout_seconds: float = 120.0, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (full-jitter backoff) while another process holds its lock."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            if not _is_lock_error(error):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"DuckDB file {path} stayed locked by another process for "
                    f"{lock_timeout_seconds:.0f}s; is another run or a DuckDB shell holding it?"
                ) from None
            time.sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not security
            delay = min(delay * 2, 2.0)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Every package's sql/create_tables.sql, then every sql/create_views.sql."""
    for script in schema_scripts():
        con.execute(script)


@contextmanager
def connect(
    path: Path, *, lock_timeout_seconds: float = 120.0, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the schema in place, always closed (which releases the file lock)."""
    con = open_connection(path, lock_timeout_seconds=lock_timeout_seconds, read_only=read_only)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN/COMMIT, or ROLLBACK on any error so nothing is half-written."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def naive_utc(moment: datetime) -> datetime:
    """DuckDB TIMESTAMP columns hold naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def fingerprint_salt(con: duckdb.DuckDBPyConnection) -> str:
    """Per-warehouse random salt, so fingerprints match across runs but not across installs."""
    con.execute(
        "INSERT INTO warehouse_settings VALUES ('fingerprint_salt', ?) ON CONFLICT DO NOTHING",
        [secrets.token_hex(16)],
    )
    row = con.execute(
        "SELECT value FROM warehouse_settings WHERE key = 'fingerprint_salt'"
    ).fetchone()
    assert row is not None
    return str(row[0])


def _setting_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def settings(con: duckdb.DuckDBPyConnection, **values: object) -> Iterator[None]:
    """DuckDB settings (memory_limit, preserve_insertion_order, ...) for the statements
    inside; the connection's own values come back after, also on error.

    A value is restored by RESET when that gives it back exactly (the usual case: the
    connection had the default; our connections never set memory_limit or
    preserve_insertion_order outside this). Otherwise it is SET again from the text DuckDB
    shows, which for a memory size is truncated to a tenth ('2.7 GiB' for 3GB).
    """
    before = {name: _current_setting(con, name) for name in values}
    try:
        for name, value in values.items():
            con.execute(f"SET {name} = {_setting_literal(value)}")
        yield
    finally:
        for name, value in before.items():
            con.execute(f"RESET {name}")
            if _current_setting(con, name) != value:
                con.execute(f"SET {name} = {_setting_literal(value)}")


def _current_setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    return row[0] if row else None
