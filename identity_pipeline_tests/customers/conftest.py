"""Hand-built persons and journals, written straight into the contract tables
(`persons`, `person_journal`) of a real DuckDB file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from identity_pipeline.warehouse import connect


@dataclass
class Journal:
    """Persons and their events in the test's warehouse file."""

    db: Path
    landing: Path
    _events: int = 0

    def person(self, person_id: str) -> None:
        with connect(self.db) as con:
            con.execute(
                "INSERT INTO persons (person_id, anchor_type, anchor_value, first_seen_at, "
                "last_seen_at, events, visits, identifiers, customer_id_count, emails, phones, "
                "anonymous_ids, gclids, fbclids, dii_ids, customer_ids, updated_at) "
                "VALUES (?, 'anonymous_id', ?, '2025-01-01', '2025-01-01', "
                "0, 0, 1, 0, 0, 0, 1, 0, 0, [], [], '2025-01-01')",
                [person_id, f"anon-{person_id}"],
            )

    def event(
        self,
        person_id: str,
        created_at: str,
        action: str | None,
        value: float | None = None,
        currency: str | None = None,
    ) -> None:
        self._events += 1
        moment = datetime.fromisoformat(created_at)
        properties = {k: v for k, v in (("value", value), ("currency", currency)) if v is not None}
        with connect(self.db) as con:
            con.execute(
                "INSERT INTO person_journal (person_id, event_id, created_at, day, visit, "
                "platform, action, properties, value, currency) "
                "VALUES (?, ?, ?, ?, 1, 'web', ?, ?, ?, ?)",
                [
                    person_id,
                    f"e{self._events:04d}",
                    moment,
                    moment.date(),
                    action,
                    json.dumps(properties),
                    value,
                    currency,
                ],
            )

    def rates(self, *rows: tuple[str, str, float]) -> None:
        with connect(self.db) as con:
            con.executemany(
                "INSERT INTO currency_rates (from_currency, to_currency, rate) VALUES (?, ?, ?)",
                list(rows),
            )

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        with connect(self.db) as con:
            return con.execute(sql, params or []).fetchall()

    def rows(self, table: str, key: str = "person_id") -> dict[str, dict[str, object]]:
        """Every row of `table` as a dict, keyed by `key`."""
        with connect(self.db) as con:
            cursor = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            return {
                row[names.index(key)]: dict(zip(names, row, strict=True))
                for row in cursor.fetchall()
            }


@pytest.fixture
def journal(workspace: Path) -> Iterator[Journal]:
    yield Journal(workspace / "identity.duckdb", workspace / "landing")
