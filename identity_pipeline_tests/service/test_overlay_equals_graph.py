"""The overlay's persons equal the identity graph's: random events applied one by one to the
service's overlay give every identifier the UUID graph-core's stitch_events gives it on a
real DuckDB file, from scratch and incrementally (fan-out limits raised: the overlay applies
them only when the pipeline publishes; blocked values count)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from identity_pipeline.identity_graph.identifiers import EVENT_COLUMNS
from identity_pipeline.identity_graph.rules import ID_TYPES, StitchingRules
from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.service.identifiers import BlockedValues, Identifier, event_identifiers
from identity_pipeline.service.overlay import Event, Overlay
from identity_pipeline.service.snapshot import GraphSnapshot

T0 = datetime(2026, 7, 1, 9, 0, 0)
NO_FAN_OUT = StitchingRules(max_links={t: 1_000_000 for t in ID_TYPES})


def random_events(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    devices = [f"dev-{i}" for i in range(count // 2)] + ["anonymous", "null"]
    emails = [f"User{i}@Corp.io " for i in range(count // 6)] + ["test@test.com"]
    phones = ["+14155550100", "(415) 555-0101", "+442071838750", "0000000000"]
    events = []
    for n in range(count):
        body: dict = {"platform": "web", "anonymous_id": rng.choice(devices)}
        if rng.random() < 0.4:
            body["email"] = rng.choice(emails)
        if rng.random() < 0.15:
            body["phone"] = rng.choice(phones)
        if rng.random() < 0.1:
            body[rng.choice(["gclid", "gaclid", "fbclid"])] = f"click-{rng.randrange(5)}"
        # a few arrive with the same timestamp: ties go to type priority, then value
        body["created_at"] = T0 + timedelta(seconds=n - n % 3 * (n % 7 == 0))
        body["event_id"] = f"e{n:04d}"
        events.append(body)
    return events


def load(con: duckdb.DuckDBPyConnection, events: list[dict]) -> None:
    columns = EVENT_COLUMNS
    con.execute(
        "CREATE OR REPLACE TABLE batch (event_id VARCHAR, created_at TIMESTAMP, anonymous_id "
        "VARCHAR, email VARCHAR, phone VARCHAR, fbclid VARCHAR, gclid VARCHAR, gaclid VARCHAR)"
    )
    con.executemany(
        "INSERT INTO batch VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [[e.get(c) for c in columns] for e in events],
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_overlay_uuids_equal_the_graphs(tmp_path: Path, seed: int) -> None:
    events = random_events(seed, 120)
    overlay = Overlay(GraphSnapshot())
    blocked = BlockedValues()
    every: dict[tuple[str, str], Identifier] = {}
    for body in events:
        identifiers = event_identifiers(body, "US")
        out = blocked.blocked_keys(identifiers)
        usable = tuple(i for i in identifiers if i.id_key not in out)
        created_at = body["created_at"]
        us = int((created_at - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
        overlay.apply(
            Event(1, created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), us, b"{}", usable, None)
        )
        for identifier in usable:
            every[(identifier.id_type, identifier.id_value)] = identifier

    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    half = len(events) // 2
    load(con, events[:half])  # incrementally, as the pipeline's runs do
    stitch_events(con, "batch", rules=NO_FAN_OUT)
    load(con, events[half:])
    stitch_events(con, "batch", rules=NO_FAN_OUT)
    graph = {
        (t, v): p
        for t, v, p in con.execute(
            "SELECT id_type, id_value, person_id FROM identity_graph"
        ).fetchall()
    }
    assert set(graph) == set(every)
    answered = {key: overlay.lookup([i], None) for key, i in every.items()}
    assert {k: p.uuid for k, p in answered.items() if p} == graph
