"""Test data as the events and contacts ingests leave it: rows in raw_events and
identity_events (hashes through normalize_table, the `dii` code path), and CRM customers in
dii/customer_dii."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.warehouse import ensure_schema
from identity_pipeline_tests.identity_graph.conftest import at

RAW_FIELDS = ("platform", "anonymous_id", "email", "phone", "fbclid", "gclid")


def hashes(con: duckdb.DuckDBPyConnection, values: Sequence[tuple[str, str]]) -> list[str | None]:
    """The UID2 hash `dii` stores for each (dii_type, raw value), in order."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE t_values (n INTEGER, dii_type VARCHAR, value VARCHAR, "
        "region VARCHAR)"
    )
    for n, (dii_type, value) in enumerate(values):
        con.execute("INSERT INTO t_values VALUES (?, ?, ?, NULL)", [n, dii_type, value])
    normalize_table(con, "t_values", "t_hashed", "US")
    rows = con.execute("SELECT uid2_hash FROM t_hashed ORDER BY n").fetchall()
    con.execute("DROP TABLE t_values; DROP TABLE t_hashed")
    return [row[0] for row in rows]


def _created(value: Any) -> datetime:
    return at(value) if isinstance(value, int) else value


def land_events(
    con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], ingest_seq: int
) -> None:
    """One ingest run: `rows` (seed 003 fields, created_at in minutes after T0 when an int,
    optional action/properties) into raw_events and identity_events with `ingest_seq`."""
    ensure_schema(con)
    email_hashes = hashes(con, [("email", r.get("email") or "") for r in rows])
    phone_hashes = hashes(con, [("phone", r.get("phone") or "") for r in rows])
    for row, email_hash, phone_hash in zip(rows, email_hashes, phone_hashes, strict=True):
        created = _created(row["created_at"])
        properties = row.get("properties")
        body = {k: row[k] for k in RAW_FIELDS if row.get(k) is not None}
        body["valuation_properties"] = {"action": row.get("action"), "properties": properties}
        values: dict[str, Any] = {k: row.get(k) for k in RAW_FIELDS}
        values["platform"] = row.get("platform", "web")
        values |= {
            "event_id": row["event_id"],
            "created_at": created,
            "payload": json.dumps(body),
            "seq": ingest_seq,
            "action": row.get("action", "pageview"),
            "properties": None if properties is None else json.dumps(properties),
            "value": (properties or {}).get("value"),
            "currency": (properties or {}).get("currency"),
            "email_hash": email_hash if row.get("email") else None,
            "phone_hash": phone_hash if row.get("phone") else None,
        }
        con.execute(
            """
            INSERT INTO raw_events (event_id, created_at, day, platform, anonymous_id, email,
                phone, fbclid, gclid, payload, source_file, line_number, ingest_seq, loaded_at)
            VALUES ($event_id, $created_at, CAST($created_at AS DATE), $platform, $anonymous_id,
                $email, $phone, $fbclid, $gclid, $payload, 'test.jsonl', 1, $seq, now())
            """,
            {k: values[k] for k in (*RAW_FIELDS, "event_id", "created_at", "payload", "seq")},
        )
        con.execute(
            """
            INSERT INTO identity_events (event_id, created_at, day, platform, action, properties,
                value, currency, anonymous_id, email_hash, phone_hash, fbclid, gclid,
                source_file, ingest_seq)
            VALUES ($event_id, $created_at, CAST($created_at AS DATE), $platform, $action,
                $properties, $value, $currency, $anonymous_id, $email_hash, $phone_hash,
                $fbclid, $gclid, 'test.jsonl', $seq)
            """,
            {
                k: values[k]
                for k in (
                    "event_id",
                    "created_at",
                    "platform",
                    "action",
                    "properties",
                    "value",
                    "currency",
                    "anonymous_id",
                    "email_hash",
                    "phone_hash",
                    "fbclid",
                    "gclid",
                    "seq",
                )
            },
        )


def add_customer(
    con: duckdb.DuckDBPyConnection,
    customer_id: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    seen: int = 0,
) -> None:
    """A CRM customer as contact_identities leaves it: dii rows and customer_dii links."""
    ensure_schema(con)
    values = [("email", e) for e in emails] + [("phone", p) for p in phones]
    for (dii_type, _), uid2_hash in zip(values, hashes(con, values), strict=True):
        con.execute(
            """
            INSERT INTO dii
            SELECT (SELECT coalesce(max(dii_id), 0) + 1 FROM dii), $t, $h, NULL, $at, $at, 1
            WHERE NOT EXISTS (SELECT 1 FROM dii WHERE uid2_hash = $h)
            """,
            {"t": dii_type, "h": uid2_hash, "at": at(seen)},
        )
        con.execute(
            "INSERT INTO customer_dii SELECT $c, dii_id, $at, $at FROM dii WHERE uid2_hash = $h",
            {"c": customer_id, "h": uid2_hash, "at": at(seen)},
        )


def land_generated(con: duckdb.DuckDBPyConnection, source: str, ingest_seq: int) -> None:
    """Rows of `source` (the events generator's columns) as one ingest run, set-based."""
    ensure_schema(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE t_batch AS
        SELECT * REPLACE (CAST(created_at AS TIMESTAMP) AS created_at),
            row_number() OVER (ORDER BY event_id) AS line_number
        FROM {source};
        CREATE OR REPLACE TEMP TABLE t_values AS
        SELECT event_id, 'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region
        FROM t_batch WHERE email IS NOT NULL
        UNION ALL
        SELECT event_id, 'phone', phone, NULL FROM t_batch WHERE phone IS NOT NULL;
        """
    )
    normalize_table(con, "t_values", "t_hashed", "US")
    con.execute(
        """
        INSERT INTO raw_events
        SELECT event_id, created_at, CAST(created_at AS DATE), platform, anonymous_id, email,
            phone, fbclid, coalesce(gclid, gaclid), CAST(valuation_properties AS VARCHAR),
            'generated.jsonl', line_number, $seq, now()
        FROM t_batch;
        """,
        {"seq": ingest_seq},
    )
    con.execute(
        """
        INSERT INTO identity_events
        SELECT b.event_id, b.created_at, CAST(b.created_at AS DATE), b.platform,
            b.valuation_properties ->> 'action', b.valuation_properties -> 'properties',
            TRY_CAST(b.valuation_properties -> 'properties' ->> 'value' AS DOUBLE),
            upper(b.valuation_properties -> 'properties' ->> 'currency'),
            b.anonymous_id, em.uid2_hash, ph.uid2_hash, b.fbclid, coalesce(b.gclid, b.gaclid),
            'generated.jsonl', $seq
        FROM t_batch AS b
        LEFT JOIN t_hashed AS em ON em.event_id = b.event_id AND em.dii_type = 'email'
            AND em.error IS NULL
        LEFT JOIN t_hashed AS ph ON ph.event_id = b.event_id AND ph.dii_type = 'phone'
            AND ph.error IS NULL
        """,
        {"seq": ingest_seq},
    )
    con.execute("DROP TABLE t_batch; DROP TABLE t_values; DROP TABLE t_hashed")
