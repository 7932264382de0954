"""Hand-built attribution cases through the real job, a real DuckDB file and landed CSVs.

Each case says which impressions must earn credit for which conversion and why; expected
values are worked out by hand from the rows written here.
"""

import pytest
from dagster import DagsterInstance

from identity_pipeline_tests.attribution.conftest import World, run_days, uid2_hash

pytestmark = pytest.mark.integration


def credits(world: World) -> dict[tuple[str, str], tuple[str, float, float]]:
    """(conversion_id, impression_id) -> (matched_via, last_touch_credit, linear_credit)."""
    rows = world.query(
        "SELECT conversion_id, impression_id, matched_via, last_touch_credit, linear_credit "
        "FROM attributed_conversions"
    )
    return {(c, i): (m, last, linear) for c, i, m, last, linear in rows}


def test_previous_uid2_and_rotated_id5_are_attributed(world: World, instance: DagsterInstance):
    world.person("ann", uid2="U-ann-now", previous_uid2="U-ann-before")
    world.person("bob", uid2="U-bob", id5="ID5-bob-now", id5_history=("ID5-bob-old",))
    world.person("cat", uid2="U-cat", id5="ID5-cat-now", previous_id5="ID5-cat-prev")
    world.land(
        "impressions",
        "2025-03-10.csv",
        [
            {
                "impression_id": "i1",
                "ts": "2025-03-10 09:00:00",
                "campaign_id": "spring",
                "id_type": "uid2",
                "id": "U-ann-before",
                "cost": "0.002",
            },
            {
                "impression_id": "i2",
                "ts": "2025-03-10 10:00:00",
                "campaign_id": "spring",
                "id_type": "id5",
                "id": "ID5-bob-old",
                "cost": "0.002",
            },
            {
                "impression_id": "i3",
                "ts": "2025-03-10 11:00:00",
                "campaign_id": "brand",
                "id_type": "id5",
                "id": "ID5-cat-prev",
                "cost": "0.002",
            },
            {
                "impression_id": "i4",
                "ts": "2025-03-10 12:00:00",
                "campaign_id": "brand",
                "id_type": "uid2",
                "id": "U-stranger",
                "cost": "0.002",
            },
        ],
    )
    world.land(
        "conversions",
        "2025-03-12.csv",
        [
            {
                "conversion_id": "c-ann",
                "ts": "2025-03-12 08:00:00",
                "customer_id": "C-ann",
                "value": "40",
                "currency": "USD",
            },
            {
                "conversion_id": "c-bob",
                "ts": "2025-03-12 09:00:00",
                "uid2_hash": uid2_hash("bob"),
                "value": "10",
                "currency": "usd",
            },
            {
                "conversion_id": "c-cat",
                "ts": "2025-03-12T10:00:00Z",
                "customer_id": "C-cat",
                "value": "5.5",
                "currency": "USD",
            },
        ],
    )
    run_days(instance, "2025-03-10", "2025-03-12")

    assert credits(world) == {
        ("c-ann", "i1"): ("uid2_previous", 1.0, 1.0),
        ("c-bob", "i2"): ("id5_history", 1.0, 1.0),
        ("c-cat", "i3"): ("id5_previous", 1.0, 1.0),
    }
    campaigns = world.query(
        "SELECT CAST(day AS VARCHAR), campaign_id, impressions, matched_impressions, "
        "people_reached, touched_conversions, CAST(last_touch_value AS DOUBLE), currency "
        "FROM campaign_attribution ORDER BY 1, 2"
    )
    assert campaigns == [
        ("2025-03-10", "brand", 2, 1, 1, 0, 0.0, None),
        ("2025-03-10", "spring", 2, 2, 2, 0, 0.0, None),
        ("2025-03-12", "brand", 0, 0, 0, 1, 5.5, "USD"),
        ("2025-03-12", "spring", 0, 0, 0, 2, 50.0, "USD"),
    ]


def test_opted_out_identities_are_never_attributed(world: World, instance: DagsterInstance):
    world.person("dan", uid2="U-dan", id5="ID5-dan")
    world.opt_out("dan")  # suppression list
    world.person("eve", uid2=None, uid2_status="optout", id5="ID5-eve")  # operator said optout
    world.person("fay", uid2="U-fay")
    impressions = [
        ("i-dan-uid2", "uid2", "U-dan"),
        ("i-dan-id5", "id5", "ID5-dan"),
        ("i-eve-id5", "id5", "ID5-eve"),
        ("i-fay", "uid2", "U-fay"),
    ]
    world.land(
        "impressions",
        "2025-03-10.csv",
        [
            {
                "impression_id": i,
                "ts": "2025-03-10 09:00:00",
                "campaign_id": "k",
                "id_type": t,
                "id": v,
            }
            for i, t, v in impressions
        ],
    )
    world.land(
        "conversions",
        "2025-03-11.csv",
        [
            {
                "conversion_id": f"c-{n}",
                "ts": "2025-03-11 09:00:00",
                "customer_id": f"C-{n}",
                "value": "1",
                "currency": "EUR",
            }
            for n in ("dan", "eve", "fay")
        ],
    )
    run_days(instance, "2025-03-10", "2025-03-11")

    assert set(credits(world)) == {("c-fay", "i-fay")}
    reached = world.query(
        "SELECT impressions, matched_impressions, people_reached FROM campaign_attribution "
        "WHERE day = DATE '2025-03-10'"
    )
    assert reached == [(4, 1, 1)]


def test_lookback_window_edges(world: World, instance: DagsterInstance):
    world.person("gus", uid2="U-gus")
    conversion_ts = "2025-03-31 12:00:00"
    cases = {
        "exactly-30-days-before": "2025-03-01 12:00:00",  # in: the window is inclusive
        "30-days-and-1s-before": "2025-03-01 11:59:59",  # out
        "same-instant": "2025-03-31 12:00:00",  # in
        "1s-after": "2025-03-31 12:00:01",  # out: after the conversion
    }
    for impression_id, ts in cases.items():
        world.land(
            "impressions",
            f"{impression_id}.csv",
            [
                {
                    "impression_id": impression_id,
                    "ts": ts,
                    "campaign_id": "k",
                    "id_type": "uid2",
                    "id": "U-gus",
                }
            ],
        )
    world.land(
        "conversions",
        "c.csv",
        [
            {
                "conversion_id": "c",
                "ts": conversion_ts,
                "customer_id": "C-gus",
                "value": "9",
                "currency": "USD",
            }
        ],
    )
    run_days(instance, "2025-03-01", "2025-03-31")

    assert credits(world) == {
        ("c", "same-instant"): ("uid2_current", 1.0, 0.5),
        ("c", "exactly-30-days-before"): ("uid2_current", 0.0, 0.5),
    }


def test_several_touches_and_several_conversions(world: World, instance: DagsterInstance):
    world.person("hal", uid2="U-hal", previous_uid2="U-hal-old", id5="ID5-hal")
    touches = [
        ("t1", "2025-03-02 08:00:00", "alpha", "uid2", "U-hal-old"),
        ("t2", "2025-03-05 08:00:00", "beta", "id5", "ID5-hal"),
        ("t3", "2025-03-09 08:00:00", "gamma", "uid2", "U-hal"),
        ("t4", "2025-03-20 08:00:00", "alpha", "uid2", "U-hal"),
    ]
    world.land(
        "impressions",
        "march.csv",
        [
            {"impression_id": i, "ts": ts, "campaign_id": c, "id_type": t, "id": v, "cost": "1"}
            for i, ts, c, t, v in touches
        ],
    )
    world.land(
        "conversions",
        "march.csv",
        [
            {
                "conversion_id": "first",
                "ts": "2025-03-10 08:00:00",
                "customer_id": "C-hal",
                "value": "30",
                "currency": "USD",
            },
            {
                "conversion_id": "second",
                "ts": "2025-03-21 08:00:00",
                "customer_id": "C-hal",
                "value": "8",
                "currency": "USD",
            },
        ],
    )
    run_days(instance, "2025-03-01", "2025-03-21")

    third = 1 / 3
    got = credits(world)
    assert {k: (m, last) for k, (m, last, _) in got.items()} == {
        ("first", "t1"): ("uid2_previous", 0.0),
        ("first", "t2"): ("id5_current", 0.0),
        ("first", "t3"): ("uid2_current", 1.0),
        ("second", "t1"): ("uid2_previous", 0.0),
        ("second", "t2"): ("id5_current", 0.0),
        ("second", "t3"): ("uid2_current", 0.0),
        ("second", "t4"): ("uid2_current", 1.0),
    }
    assert all(
        linear == pytest.approx(third) for (c, _), (_, _, linear) in got.items() if c == "first"
    )
    assert all(
        linear == pytest.approx(0.25) for (c, _), (_, _, linear) in got.items() if c == "second"
    )
    by_campaign = world.query(
        "SELECT campaign_id, CAST(sum(last_touch_value) AS DOUBLE), "
        "CAST(sum(linear_value) AS DOUBLE), sum(touched_conversions) "
        "FROM campaign_attribution GROUP BY 1 ORDER BY 1"
    )
    assert by_campaign == [
        ("alpha", 8.0, pytest.approx(30 * third + 8 * 0.5), 2),
        ("beta", 0.0, pytest.approx(30 * third + 8 * 0.25), 2),
        ("gamma", 30.0, pytest.approx(30 * third + 8 * 0.25), 2),
    ]
