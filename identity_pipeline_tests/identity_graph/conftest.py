"""Helpers: events as seed 003 bodies in a real DuckDB file."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from identity_pipeline.identity_graph.identifiers import EVENT_COLUMNS

T0 = datetime(2026, 7, 1, 9, 0, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def load_events(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """(Re)create table `table` holding `rows` (missing fields NULL; created_at minutes after T0
    when an int)."""
    con.execute(
        f"CREATE OR REPLACE TABLE {table} (event_id VARCHAR, created_at TIMESTAMP, "
        "platform VARCHAR, anonymous_id VARCHAR, email VARCHAR, phone VARCHAR, fbclid VARCHAR, "
        "gclid VARCHAR, gaclid VARCHAR)"
    )
    for row in rows:
        values = {c: row.get(c) for c in EVENT_COLUMNS}
        if isinstance(values["created_at"], int):
            values["created_at"] = at(values["created_at"])
        values["platform"] = row.get("platform", "web")
        con.execute(
            f"INSERT INTO {table} VALUES ($event_id, $created_at, $platform, $anonymous_id, "
            "$email, $phone, $fbclid, $gclid, $gaclid)",
            values,
        )


def graph(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(id_type, id_value) -> person_id."""
    return {
        (t, v): p
        for t, v, p in con.execute(
            "SELECT id_type, id_value, person_id FROM identity_graph"
        ).fetchall()
    }


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "identity.duckdb"))
    yield connection
    connection.close()
