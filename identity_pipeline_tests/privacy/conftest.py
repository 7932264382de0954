"""A small world of two people's events in a real warehouse file, stitched by the real
stitcher: Ann (two devices that merged, an email, a phone, an ad click) and Bob."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from uid2_client import normalize_and_hash_email, normalize_and_hash_phone

from identity_pipeline.customers.config import (
    CustomerMetricsConfig,
    CustomerSegmentsConfig,
    metrics_settings,
    segment_thresholds,
)
from identity_pipeline.customers.scoring import score_metrics, score_segments, score_value
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.warehouse import connect

T0 = datetime(2026, 7, 1, 9, 0, 0)
ANN_EMAIL = "Ann.Lee@Mailbox.org"
ANN_PHONE = "+14155550100"
BOB_EMAIL = "bob@work.test"

# Ann's laptop and phone are two persons until her login on both merges them.
FIRST_BATCH = [
    {"event_id": "a1", "minutes": 0, "anonymous_id": "ann-laptop", "action": "pageview"},
    {"event_id": "a2", "minutes": 5, "anonymous_id": "ann-phone", "gclid": "G-ANN"},
    {"event_id": "b1", "minutes": 7, "anonymous_id": "bob-1", "action": "pageview"},
]
SECOND_BATCH = [
    {"event_id": "a3", "minutes": 60, "anonymous_id": "ann-laptop", "email": ANN_EMAIL},
    {
        "event_id": "a4",
        "minutes": 90,
        "anonymous_id": "ann-phone",
        "email": " ann.lee@mailbox.org",
        "phone": ANN_PHONE,
        "action": "purchase",
        "properties": {"value": 42.5, "currency": "usd"},
    },
    # A QA email on Ann's device is a hub: it links nobody and is not Ann's.
    {"event_id": "a5", "minutes": 95, "anonymous_id": "ann-phone", "email": "test@test.com"},
    {"event_id": "b2", "minutes": 100, "anonymous_id": "bob-1", "email": BOB_EMAIL},
    {"event_id": "b3", "minutes": 130, "anonymous_id": "bob-1", "email": "test@test.com"},
]
ANN_EVENTS = {"a1", "a2", "a3", "a4", "a5"}
BOB_EVENTS = {"b1", "b2", "b3"}


def body(event: dict[str, Any]) -> dict[str, Any]:
    """Seed 003's request body plus event_id and created_at, as a landed file holds it."""
    out: dict[str, Any] = {
        "event_id": event["event_id"],
        "created_at": (T0 + timedelta(minutes=event["minutes"])).isoformat() + "Z",
        "platform": event.get("platform", "web"),
    }
    for key in ("anonymous_id", "email", "phone", "fbclid", "gclid"):
        if key in event:
            out[key] = event[key]
    out["valuation_properties"] = {
        "action": event.get("action", "pageview"),
        "properties": event.get("properties", {}),
    }
    return out


def _hash(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    if kind == "email":
        return str(normalize_and_hash_email(value.strip()))
    return str(normalize_and_hash_phone(value))


def insert_events(con: duckdb.DuckDBPyConnection, batch: list[dict[str, Any]], seq: int) -> None:
    """raw_events and identity_events rows as ingestion writes them (hashes by the SDK)."""
    for line, event in enumerate(batch, start=1):
        created = T0 + timedelta(minutes=event["minutes"])
        props = event.get("properties", {})
        con.execute(
            "INSERT INTO raw_events VALUES ($id, $at, CAST($at AS DATE), 'web', $anon, $email, "
            "$phone, NULL, $gclid, $payload, $file, $line, $seq, $at)",
            {
                "id": event["event_id"],
                "at": created,
                "anon": event.get("anonymous_id"),
                "email": event.get("email"),
                "phone": event.get("phone"),
                "gclid": event.get("gclid"),
                "payload": json.dumps(body(event)),
                "file": f"batch{seq}.jsonl",
                "line": line,
                "seq": seq,
            },
        )
        con.execute(
            "INSERT INTO identity_events VALUES ($id, $at, CAST($at AS DATE), 'web', $action, "
            "$props, $value, $currency, $anon, $email, $phone, NULL, $gclid, $file, $seq)",
            {
                "id": event["event_id"],
                "at": created,
                "action": event.get("action", "pageview"),
                "props": json.dumps(props),
                "value": props.get("value"),
                "currency": str(props["currency"]).upper() if "currency" in props else None,
                "anon": event.get("anonymous_id"),
                "email": _hash("email", event.get("email")),
                "phone": _hash("phone", event.get("phone")),
                "gclid": event.get("gclid"),
                "file": f"batch{seq}.jsonl",
                "seq": seq,
            },
        )


def stitch_new(con: duckdb.DuckDBPyConnection, seq: int) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP VIEW new_events AS SELECT event_id, created_at, anonymous_id, "
        "email, phone, fbclid, gclid, CAST(NULL AS VARCHAR) AS gaclid FROM raw_events "
        f"WHERE ingest_seq = {seq}"
    )
    stitch_events(con, "new_events", now=T0 + timedelta(days=1))


def build_world(database: Path) -> dict[str, str]:
    """Two batches stitched; persons, person_journal and the score tables derived from them.
    Returns {'ann': person_id, 'bob': person_id, 'ann_retired': old person_id}."""
    with connect(database) as con:
        insert_events(con, FIRST_BATCH, 1)
        stitch_new(con, 1)
        insert_events(con, SECOND_BATCH, 2)
        stitch_new(con, 2)
        con.execute(
            """
            INSERT INTO person_journal
            SELECT DISTINCT g.person_id, e.event_id, e.created_at, e.day, 1, e.platform,
                e.action, e.properties, e.value, e.currency
            FROM identity_events AS e JOIN identity_graph AS g
              ON (g.id_type = 'anonymous_id' AND g.id_value = e.anonymous_id)
              OR (g.id_type = 'email' AND g.id_value = e.email_hash);
            INSERT INTO persons
            SELECT p.person_id, p.anchor_type, p.anchor_value, p.first_seen_at,
                max(j.created_at), count(*), 1, p.identifiers, p.customer_ids, p.emails,
                p.phones, p.anonymous_ids, 0, 0, [], [], p.updated_at
            FROM identity_persons AS p JOIN person_journal AS j USING (person_id)
            GROUP BY ALL;
            """
        )
        # The score tables, through the real scoring (customers package).
        settings = metrics_settings(CustomerMetricsConfig(reporting_currency="USD"))
        score_metrics(con, settings, database.parent / "no-rates", T0)
        score_value(con, T0)
        score_segments(con, segment_thresholds(CustomerSegmentsConfig()), T0)
        ids = {
            name: str(
                con.execute(
                    "SELECT person_id FROM identity_graph WHERE id_type = 'anonymous_id' "
                    "AND id_value = ?",
                    [device],
                ).fetchall()[0][0]
            )
            for name, device in (("ann", "ann-laptop"), ("bob", "bob-1"))
        }
        (retired,) = con.execute(
            "SELECT old_person_id FROM person_merges WHERE new_person_id = ?", [ids["ann"]]
        ).fetchall()
        ids["ann_retired"] = str(retired[0])
    return ids
