"""Attribution through the person (issue 15 item 7), through the real job and a real DuckDB file.

The identity graph is built by the real stitcher (identity_graph.stitch.stitch_events) over a
small events table; identities and their UID2/ID5 mapping rows are written as in the other
attribution cases. Each case says which impressions must earn credit for which conversion and
through what; expected rows are worked out by hand from the rows written here.
"""

import base64
import hashlib
from typing import Any

import pytest
from dagster import DagsterInstance

from identity_pipeline.identity_graph.stitch import stitch_events
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.attribution.conftest import (
    PERSON_CONVERSION_COLUMNS,
    World,
    run_days,
    uid2_hash,
)
from identity_pipeline_tests.attribution.test_landing_and_metadata import metadata
from identity_pipeline_tests.identity_graph.conftest import load_events

pytestmark = pytest.mark.integration

PHONE = "+12015550123"


def phone_hash(e164: str) -> str:
    """The UID2 hash `dii` (and the graph) store for a normalized phone."""
    return base64.b64encode(hashlib.sha256(e164.encode()).digest()).decode()


def stitch(world: World, events: list[dict[str, Any]]) -> None:
    """Run the real stitcher over `events` (seed 003 bodies; emails of the form
    <name>@example.test, so their hashes are the World's uid2_hash(name))."""
    with connect(world.db) as con:
        load_events(con, "raw_test_events", events)
        stitch_events(con, "raw_test_events")
        con.execute("DROP TABLE raw_test_events")


def purchase(world: World, event_id: str, ts: str, value: float, currency: str, **ids: str) -> None:
    """A purchase in identity_events (hashes only), as event ingestion writes it."""
    world.execute(
        "INSERT INTO identity_events (event_id, created_at, day, platform, action, properties, "
        "value, currency, anonymous_id, email_hash, phone_hash, fbclid, gclid, source_file, "
        "ingest_seq) VALUES (?, ?, CAST(CAST(? AS TIMESTAMP) AS DATE), 'web', 'purchase', "
        "'{}', ?, ?, ?, ?, ?, ?, ?, 'events.jsonl', 1)",
        [
            event_id,
            ts,
            ts,
            value,
            currency,
            ids.get("anonymous_id"),
            ids.get("email_hash"),
            ids.get("phone_hash"),
            ids.get("fbclid"),
            ids.get("gclid"),
        ],
    )


def credits(world: World) -> dict[tuple[str, str], tuple[str, str, float]]:
    """(conversion_id, impression_id) -> (matched_via, credited_through, last_touch_credit)."""
    rows = world.query(
        "SELECT conversion_id, impression_id, matched_via, credited_through, last_touch_credit "
        "FROM attributed_conversions"
    )
    return {(c, i): (m, through, last) for c, i, m, through, last in rows}


def impressions(world: World, rows: list[tuple[str, str, str, str]]) -> None:
    """(impression_id, ts, id_type, id) rows of campaign 'k', landed as one file."""
    world.land(
        "impressions",
        "impressions.csv",
        [
            {"impression_id": i, "ts": ts, "campaign_id": "k", "id_type": t, "id": v}
            for i, ts, t, v in rows
        ],
    )


def conversions(world: World, name: str, rows: list[dict[str, Any]]) -> None:
    """A conversions file with the optional ad id columns; value 10 USD unless given."""
    rows = [{"value": "10", "currency": "USD", **row} for row in rows]
    world.land("conversions", name, rows, columns=PERSON_CONVERSION_COLUMNS)


ANN_DEVICES = [
    # ann logs in on her laptop with one email, later on the same laptop with another, and
    # gives her phone in the app on her phone, where she also logs in with the second email.
    {"event_id": "e1", "created_at": 0, "anonymous_id": "ann-laptop", "email": "ann@example.test"},
    {
        "event_id": "e2",
        "created_at": 60,
        "anonymous_id": "ann-laptop",
        "email": "Ann2@Example.test",
    },
    {"event_id": "e3", "created_at": 90, "anonymous_id": "ann-phone", "email": "ann2@example.test"},
    {"event_id": "e4", "created_at": 95, "anonymous_id": "ann-phone", "phone": PHONE},
    {
        "event_id": "e5",
        "created_at": 120,
        "anonymous_id": "bob-laptop",
        "email": "bob@example.test",
    },
]


def test_a_conversion_credits_every_identifier_of_its_person(
    world: World, instance: DagsterInstance
):
    world.person("ann", uid2="U-ann", id5="ID5-ann")
    world.person("ann2", uid2="U-ann2", previous_uid2="U-ann2-old", id5="ID5-ann2")
    world.person(
        "ann-phone",
        uid2="U-ann-phone",
        dii_type="phone",
        hashed=phone_hash(PHONE),
        customer_id="C-ann-phone",
    )
    world.person("bob", uid2="U-bob")
    impressions(
        world,
        [
            ("i-ann2-uid2", "2025-03-10 09:00:00", "uid2", "U-ann2"),
            ("i-ann2-prev", "2025-03-10 10:00:00", "uid2", "U-ann2-old"),
            ("i-ann2-id5", "2025-03-10 11:00:00", "id5", "ID5-ann2"),
            ("i-ann-phone", "2025-03-10 12:00:00", "uid2", "U-ann-phone"),
            ("i-ann", "2025-03-10 13:00:00", "uid2", "U-ann"),
            ("i-bob", "2025-03-10 14:00:00", "uid2", "U-bob"),
        ],
    )
    conversions(
        world,
        "2025-03-12.csv",
        [
            # ann's first email, by her CRM id
            {"conversion_id": "c-customer", "ts": "2025-03-12 08:00:00", "customer_id": "C-ann"},
            # ann's ID5 ID as the conversion's ad id (no customer_id, no uid2_hash)
            {
                "conversion_id": "c-ad-id",
                "ts": "2025-03-12 09:00:00",
                "id_type": "ID5",
                "id": "ID5-ann",
            },
            {"conversion_id": "c-bob", "ts": "2025-03-12 10:00:00", "customer_id": "C-bob"},
        ],
    )
    run_days(instance, "2025-03-10", "2025-03-12")

    # Graph empty: each conversion credits only the identity it names itself, as before.
    own = {
        ("c-customer", "i-ann"): ("uid2_current", "identity", 1.0),
        ("c-ad-id", "i-ann"): ("uid2_current", "identity", 1.0),
        ("c-bob", "i-bob"): ("uid2_current", "identity", 1.0),
    }
    assert credits(world) == own

    stitch(world, ANN_DEVICES)
    result = run_days(instance, "2025-03-12", "2025-03-12")

    through_ann = {
        ("i-ann2-uid2", "uid2_current", "person"),
        ("i-ann2-prev", "uid2_previous", "person"),
        ("i-ann2-id5", "id5_current", "person"),
        ("i-ann-phone", "uid2_current", "person"),
        ("i-ann", "uid2_current", "identity"),
    }
    got = credits(world)
    for conversion in ("c-customer", "c-ad-id"):
        assert {(i, m, t) for (c, i), (m, t, _) in got.items() if c == conversion} == through_ann
        # last touch: ann's latest impression, on her first email
        assert got[(conversion, "i-ann")][2] == 1.0
    assert {k: v for k, v in got.items() if k[0] == "c-bob"} == {
        ("c-bob", "i-bob"): ("uid2_current", "identity", 1.0)
    }
    touches = world.query(
        "SELECT DISTINCT touches, linear_credit FROM attributed_conversions "
        "WHERE conversion_id = 'c-customer'"
    )
    assert touches == [(5, 0.2)]
    matched = world.query(
        "SELECT touched_conversions, last_touch_conversions FROM campaign_attribution "
        "WHERE day = DATE '2025-03-12'"
    )
    assert matched == [(3, 3)]
    figures = metadata(result, "attributed_conversions")
    assert figures["touches_through_person"] == 8  # 4 of ann's 5 touches, for each conversion
    assert figures["purchase_event_conversions"] == 0


def test_a_purchase_event_is_a_conversion_of_its_person(world: World, instance: DagsterInstance):
    world.person("ann", uid2="U-ann")
    world.person("ann2", uid2="U-ann2", id5="ID5-ann2")
    world.person("bob", uid2="U-bob")
    stitch(world, ANN_DEVICES)
    impressions(
        world,
        [
            ("i-ann2", "2025-03-10 09:00:00", "uid2", "U-ann2"),
            ("i-ann2-id5", "2025-03-10 10:00:00", "id5", "ID5-ann2"),
            ("i-bob", "2025-03-10 11:00:00", "uid2", "U-bob"),
        ],
    )
    # Bought on ann's phone, logged out: only the device id ties it to ann.
    purchase(world, "p-ann", "2025-03-11 20:00:00", 25.0, "EUR", anonymous_id="ann-phone")
    # A purchase nobody in the graph made, and one without value or currency.
    purchase(world, "p-nobody", "2025-03-11 21:00:00", 9.0, "EUR", anonymous_id="unknown")
    purchase(world, "p-bob", "2025-03-11 22:00:00", None, None, email_hash=uid2_hash("bob"))
    # The same purchase landed as a conversion file row too: counted once, the landed row wins.
    conversions(
        world,
        "2025-03-11.csv",
        [
            {
                "conversion_id": "p-bob",
                "ts": "2025-03-11 22:00:00",
                "customer_id": "C-bob",
                "value": "7",
                "currency": "USD",
            }
        ],
    )
    result = run_days(instance, "2025-03-10", "2025-03-11")

    figures = metadata(result, "attributed_conversions")
    assert (figures["conversions"], figures["purchase_event_conversions"]) == (3, 2)
    assert credits(world) == {
        ("p-ann", "i-ann2"): ("uid2_current", "person", 0.0),
        ("p-ann", "i-ann2-id5"): ("id5_current", "person", 1.0),
        ("p-bob", "i-bob"): ("uid2_current", "identity", 1.0),
    }
    values = world.query(
        "SELECT DISTINCT conversion_id, value, currency, CAST(conversion_ts AS VARCHAR) "
        "FROM attributed_conversions ORDER BY 1"
    )
    assert values == [
        ("p-ann", 25.0, "EUR", "2025-03-11 20:00:00"),
        ("p-bob", 7.0, "USD", "2025-03-11 22:00:00"),
    ]


def test_an_opted_out_person_neither_earns_nor_gives_credit(
    world: World, instance: DagsterInstance
):
    world.person("ann", uid2="U-ann")
    world.person("ann2", uid2="U-ann2")
    world.person("bob", uid2="U-bob")
    world.opt_out("ann2")  # one of ann's two emails is on the suppression list
    impressions(
        world,
        [
            ("i-ann", "2025-03-10 09:00:00", "uid2", "U-ann"),
            ("i-ann2", "2025-03-10 10:00:00", "uid2", "U-ann2"),
            ("i-bob", "2025-03-10 11:00:00", "uid2", "U-bob"),
        ],
    )
    conversions(
        world,
        "c.csv",
        [
            {"conversion_id": f"c-{n}", "ts": "2025-03-11 09:00:00", "customer_id": f"C-{n}"}
            for n in ("ann", "ann2", "bob")
        ],
    )
    run_days(instance, "2025-03-10", "2025-03-11")
    # Graph empty: as before persons, only the opted-out email itself is left out.
    assert set(credits(world)) == {("c-ann", "i-ann"), ("c-bob", "i-bob")}

    stitch(world, ANN_DEVICES)
    purchase(world, "p-ann", "2025-03-11 20:00:00", 5.0, "USD", anonymous_id="ann-laptop")
    run_days(instance, "2025-03-10", "2025-03-11")

    # Now ann is one person with an opted-out email: none of her identities earns credit,
    # and none of her conversions (by either email, or a purchase event) gives any.
    assert set(credits(world)) == {("c-bob", "i-bob")}
    reached = world.query(
        "SELECT impressions, matched_impressions, people_reached FROM campaign_attribution "
        "WHERE day = DATE '2025-03-10'"
    )
    assert reached == [(3, 1, 1)]


def test_ad_id_columns_are_optional_and_checked(world: World, instance: DagsterInstance):
    world.person("cat", uid2="U-cat", previous_uid2="U-cat-old")
    impressions(world, [("i-cat", "2025-03-10 09:00:00", "uid2", "U-cat")])
    conversions(
        world,
        "ad-ids.csv",
        [
            {
                "conversion_id": "c-prev",
                "ts": "2025-03-11 09:00:00",
                "id_type": "uid2",
                "id": "U-cat-old",
            },
            {
                "conversion_id": "c-bad-type",
                "ts": "2025-03-11 09:00:00",
                "id_type": "maid",
                "id": "x",
            },
            {"conversion_id": "c-no-type", "ts": "2025-03-11 09:00:00", "id": "U-cat"},
            {
                "conversion_id": "c-no-id",
                "ts": "2025-03-11 09:00:00",
                "customer_id": "C-cat",
                "id_type": "uid2",
            },
        ],
    )
    run_days(instance, "2025-03-10", "2025-03-11")

    # A previous UID2 names its identity as the current one does.
    assert credits(world) == {("c-prev", "i-cat"): ("uid2_current", "identity", 1.0)}
    rejects = world.query(
        "SELECT row_number, field, reason FROM attribution_rejects WHERE kind = 'conversions' "
        "ORDER BY row_number"
    )
    assert rejects == [
        (2, "id_type", "unknown_id_type"),
        (3, "id_type", "missing"),
        (4, "id", "missing"),
    ]
