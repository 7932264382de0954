"""Hand-built attribution worlds: identities, mapping rows and landed files, all in the open.

The mapping tables belong to the UID2/ID5 mapping work; these fixtures create them by hand
with exactly the agreed columns, so the tests do not depend on who creates them.
"""

import base64
import csv
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import DagsterInstance

from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
from identity_pipeline.definitions import defs
from identity_pipeline.landing.watch import SETTLE_SECONDS
from identity_pipeline.warehouse import connect

MAPPING_DDL = """
CREATE TABLE IF NOT EXISTS uid2_mapping (dii_id BIGINT PRIMARY KEY, uid2_hash VARCHAR,
    dii_type VARCHAR, current_uid VARCHAR, previous_uid VARCHAR, refresh_from TIMESTAMP,
    status VARCHAR, reason VARCHAR, bucket_id VARCHAR, mapped_at TIMESTAMP, attempts INTEGER);
CREATE TABLE IF NOT EXISTS id5_mapping (dii_id BIGINT PRIMARY KEY, id5_hash VARCHAR,
    id5_uid VARCHAR, previous_id5_uid VARCHAR, country_alpha2 VARCHAR, status VARCHAR,
    error_code VARCHAR, mapped_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS id5_uid_history (dii_id BIGINT, id5_uid VARCHAR,
    first_seen_at TIMESTAMP, last_seen_at TIMESTAMP, PRIMARY KEY (dii_id, id5_uid));
CREATE TABLE IF NOT EXISTS optouts (uid2_hash VARCHAR PRIMARY KEY, dii_type VARCHAR,
    source VARCHAR, source_file VARCHAR, opted_out_at TIMESTAMP);
"""

IMPRESSION_COLUMNS = ["impression_id", "ts", "campaign_id", "id_type", "id", "cost"]
CONVERSION_COLUMNS = ["conversion_id", "ts", "customer_id", "uid2_hash", "value", "currency"]
PERSON_CONVERSION_COLUMNS = [*CONVERSION_COLUMNS, "id_type", "id"]
"""Conversions files may also name the person by an ad id (optional columns)."""
MAPPED_AT = datetime(2025, 3, 20)


def uid2_hash(name: str) -> str:
    """A stand-in base64 SHA-256 for a person called `name` (no real emails in tests)."""
    return base64.b64encode(hashlib.sha256(f"{name}@example.test".encode()).digest()).decode()


@dataclass
class World:
    """Identities, their ad ids and landed files of one test, written through `db`."""

    root: Path
    people: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.root / "identity.duckdb"

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        with connect(self.db) as con:
            con.execute(MAPPING_DDL)
            con.execute(sql, params or [])

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def person(
        self,
        name: str,
        *,
        uid2: str | None = None,
        previous_uid2: str | None = None,
        id5: str | None = None,
        previous_id5: str | None = None,
        id5_history: tuple[str, ...] = (),
        uid2_status: str = "mapped",
        customer_id: str | None = None,
        dii_type: str = "email",
        hashed: str | None = None,
    ) -> int:
        """Add an email identity (or a `dii_type` one with its UID2 hash `hashed`) with its
        mapping rows; returns its dii_id."""
        dii_id = len(self.people) + 1
        self.people[name] = dii_id
        hashed = hashed or uid2_hash(name)
        self.execute(
            "INSERT INTO dii VALUES (?, ?, ?, ?, ?, ?, 1)",
            [
                dii_id,
                dii_type,
                hashed,
                hashlib.sha256(name.encode()).hexdigest(),
                MAPPED_AT,
                MAPPED_AT,
            ],
        )
        self.execute(
            "INSERT INTO customer_dii VALUES (?, ?, ?, ?)",
            [customer_id or f"C-{name}", dii_id, MAPPED_AT, MAPPED_AT],
        )
        self.execute(
            "INSERT INTO uid2_mapping "
            "(dii_id, uid2_hash, dii_type, current_uid, previous_uid, refresh_from, status, "
            "reason, bucket_id, mapped_at, attempts) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, 'b1', ?, 1)",
            [dii_id, hashed, dii_type, uid2, previous_uid2, uid2_status, MAPPED_AT],
        )
        if id5 is not None:
            self.execute(
                "INSERT INTO id5_mapping "
                "(dii_id, id5_hash, id5_uid, previous_id5_uid, country_alpha2, status, "
                "error_code, mapped_at) VALUES (?, 'h', ?, ?, 'US', 'mapped', NULL, ?)",
                [dii_id, id5, previous_id5, MAPPED_AT],
            )
        for uid in id5_history:
            self.execute(
                "INSERT INTO id5_uid_history VALUES (?, ?, ?, ?)",
                [dii_id, uid, MAPPED_AT, MAPPED_AT],
            )
        return dii_id

    def opt_out(self, name: str) -> None:
        self.execute(
            "INSERT INTO optouts VALUES (?, 'email', 'suppression', 'optouts.csv', ?)",
            [uid2_hash(name), MAPPED_AT],
        )

    def land(
        self, kind: str, name: str, rows: list[dict[str, Any]], columns: list[str] | None = None
    ) -> Path:
        """Write a landed CSV file with the kind's columns (or `columns`); absent keys are
        empty."""
        columns = columns or (IMPRESSION_COLUMNS if kind == "impressions" else CONVERSION_COLUMNS)
        path = self.root / "landing" / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
        # A finished copy: older than the landing watch's settle time, and a new stamp.
        settled = time.time_ns() - int(SETTLE_SECONDS * 2e9)
        os.utime(path, ns=(settled, settled))
        return path


@pytest.fixture
def world(workspace: Path) -> Iterator[World]:
    created = World(workspace)
    created.execute("SELECT 1")  # schema and mapping tables exist from the start
    yield created


def run_days(instance: DagsterInstance, first: str, last: str) -> Any:
    """One run of the attribution job over [first, last], as a single-run backfill does."""
    result = defs.resolve_job_def("attribution").execute_in_process(
        instance=instance, tags={RANGE_START_TAG: first, RANGE_END_TAG: last}
    )
    assert result.success
    return result
