"""Helpers: event files in a landing folder and a real DuckDB file to ingest them into."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from identity_pipeline.events.ingest import EventIngestReport, ingest_event_files
from identity_pipeline.landing.readers import EVENT_FIELDS
from identity_pipeline.warehouse import connect

SECRET_EMAIL = "very.private.person@example.com"
SECRET_PHONE = "+12125550143"


def event(n: int | str, **fields: Any) -> dict[str, Any]:
    """A valid seed 003 body with event_id e<n>; fields override or add (None removes)."""
    body: dict[str, Any] = {
        "event_id": f"e{n}",
        "created_at": "2026-07-01T10:00:00.000000Z",
        "platform": "web",
        "anonymous_id": f"anon-{n}",
        "valuation_properties": {"action": "pageview", "properties": {"page_url": "/"}},
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def lines_of(rows: Sequence[dict[str, Any] | str]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def write_jsonl(folder: Path, name: str, rows: Sequence[dict[str, Any] | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = lines_of(rows).encode("utf-8")
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    return path


def write_parquet(folder: Path, name: str, rows: Sequence[dict[str, Any]]) -> Path:
    """Rows as Parquet through DuckDB; valuation_properties as JSON text (VARCHAR)."""
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = folder.parent / f"{name}.source.jsonl"
    jsonl.write_text(lines_of(rows), encoding="utf-8")
    path = folder / name
    con = duckdb.connect()
    columns = {c: "VARCHAR" for c in EVENT_FIELDS}
    con.execute(
        f"COPY (SELECT * FROM read_json('{jsonl}', format = 'newline_delimited', "
        f"columns = {columns})) TO '{path}' (FORMAT parquet)"
    )
    con.close()
    jsonl.unlink()
    return path


class Warehouse:
    """A real DuckDB file; `ingest` runs one pass over the events folder."""

    def __init__(self, root: Path) -> None:
        self.path = root / "identity.duckdb"
        self.events = root / "landing" / "events"
        self.events.mkdir(parents=True, exist_ok=True)

    def ingest(self, region: str = "US") -> EventIngestReport:
        with connect(self.path) as con:
            return ingest_event_files(con, self.events, region)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connect(self.path) as con:
            return con.execute(sql, list(params)).fetchall()

    def rejects(self) -> set[tuple[Any, ...]]:
        return set(
            self.query(
                "SELECT source_file, line_number, event_id, field, reason, kept FROM event_rejects"
            )
        )

    def dump(self, table: str) -> str:
        """Every value of a table as text, to look for raw values in."""
        return " ".join(str(row) for row in self.query(f"SELECT * FROM {table}"))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    yield Warehouse(tmp_path)
