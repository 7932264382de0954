"""DuckDB access: one short-lived connection at a time, schema on connect, lock-aware opening.

DuckDB lets one process hold a database file read-write. Dagster can run several processes
(a sensor's run beside a schedule's), so connections are opened late, held only around local
work (never across an HTTP call) and opening retries with backoff while another process holds
the file. See README "DuckDB and Dagster executors".
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import duckdb

SCHEMA_FILES: tuple[tuple[str, str], ...] = (
    ("identity_pipeline.contacts", "create_tables.sql"),
    ("identity_pipeline.optouts", "create_tables.sql"),
    ("identity_pipeline.uid2", "create_tables.sql"),
    ("identity_pipeline.id5", "create_tables.sql"),
    ("identity_pipeline.attribution", "create_tables.sql"),
    ("identity_pipeline.operations", "create_tables.sql"),
)
"""(package, file) of every CREATE ... IF NOT EXISTS script, in dependency order."""


class WarehouseLockedError(RuntimeError):
    """Another process kept the DuckDB file locked for longer than we were willing to wait."""


def read_sql(package: str, name: str) -> str:
    """Load a .sql file shipped inside a package's sql/ folder."""
    return files(package).joinpath("sql", name).read_text(encoding="utf-8")


def execute_script(
    con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object] | None = None
) -> None:
    """Run a multi-statement .sql file, binding `$name` parameters per statement.

    Statements end with a semicolon at the end of a line; our SQL files keep to that.
    """
    params = params or {}
    for statement in re.split(r";\s*\n", script):
        body = "\n".join(
            line for line in statement.splitlines() if not line.lstrip().startswith("--")
        ).strip()
        if not body:
            continue
        used = {k: v for k, v in params.items() if f"${k}" in body}
        con.execute(body, used) if used else con.execute(body)


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
    for package, name in SCHEMA_FILES:
        con.execute(read_sql(package, name))


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
