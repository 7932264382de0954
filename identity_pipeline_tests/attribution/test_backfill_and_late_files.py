"""Partitions are idempotent and atomic; backfills run as one run; late files are picked up."""

import json
from datetime import date, timedelta

import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context, materialize

from identity_pipeline.attribution.assets import build_attribution_assets, daily_partitions
from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG, affected_days
from identity_pipeline.definitions import defs
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline_tests.attribution.conftest import World, run_days

pytestmark = pytest.mark.integration

TABLES = ("impressions", "conversions", "attributed_conversions", "campaign_attribution")


def snapshot(world: World) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: world.query(f"SELECT * EXCLUDE (source_file) FROM {t} ORDER BY ALL")
        if t in ("impressions", "conversions")
        else world.query(f"SELECT * FROM {t} ORDER BY ALL")
        for t in TABLES
    }


def busy_fortnight(world: World) -> None:
    """Three people, impressions every day of 2025-03-01..14, a conversion every other day."""
    world.person("ida", uid2="U-ida", previous_uid2="U-ida-old", id5="ID5-ida")
    world.person("jon", uid2="U-jon", id5="ID5-jon", id5_history=("ID5-jon-old",))
    world.person("kim", uid2="U-kim")
    ids = [
        ("uid2", "U-ida-old"),
        ("id5", "ID5-ida"),
        ("id5", "ID5-jon-old"),
        ("uid2", "U-kim"),
        ("uid2", "U-nobody"),
    ]
    for n in range(14):
        day = date(2025, 3, 1) + timedelta(days=n)
        world.land(
            "impressions",
            f"{day}.csv",
            [
                {
                    "impression_id": f"i{n}-{k}",
                    "ts": f"{day} {8 + k}:00:00",
                    "campaign_id": f"camp{(n + k) % 3}",
                    "id_type": t,
                    "id": v,
                    "cost": "0.01",
                }
                for k, (t, v) in enumerate(ids)
            ],
        )
        if n % 2:
            world.land(
                "conversions",
                f"{day}.csv",
                [
                    {
                        "conversion_id": f"c{n}-{who}",
                        "ts": f"{day} 20:00:00",
                        "customer_id": f"C-{who}",
                        "value": str(n),
                        "currency": "USD",
                    }
                    for who in ("ida", "jon", "kim")
                ],
            )


def test_backfill_is_one_run_and_rerunning_replaces_instead_of_adding(
    world: World, instance: DagsterInstance
):
    busy_fortnight(world)
    result = run_days(instance, "2025-03-01", "2025-03-14")
    first = snapshot(world)
    assert len(first["impressions"]) == 14 * 5
    assert len(first["conversions"]) == 7 * 3
    assert len(first["attributed_conversions"]) > 21
    assert len(instance.get_runs()) == 1
    days = {
        e.asset_key.to_user_string(): e.materialization.metadata["days"].value
        for e in result.get_asset_materialization_events()
    }
    assert set(days.values()) == {14}  # the whole range in one step per asset

    run_days(instance, "2025-03-01", "2025-03-14")
    assert snapshot(world) == first

    # Day by day through materialize() gives the same tables as the single-run range.
    assets = build_attribution_assets(daily_partitions("2025-01-01"), lookback_days=30)
    for n in range(14):
        key = (date(2025, 3, 1) + timedelta(days=n)).isoformat()
        done = materialize(
            assets,
            partition_key=key,
            instance=instance,
            resources={
                "warehouse": DuckDBWarehouse(),
                "landing": LandingArea(),
                "spark": SparkResource(),
            },
        )
        assert done.success
    assert snapshot(world) == first


def test_a_failing_rebuild_keeps_the_previous_rows(world: World, instance: DagsterInstance):
    busy_fortnight(world)
    run_days(instance, "2025-03-01", "2025-03-14")
    before = snapshot(world)
    # Break the conversion -> identity join so the INSERT fails after the DELETE ran.
    world.execute("ALTER TABLE customer_dii RENAME COLUMN customer_id TO renamed_customer_id")
    failed = defs.resolve_job_def("attribution").execute_in_process(
        instance=instance,
        tags={RANGE_START_TAG: "2025-03-01", RANGE_END_TAG: "2025-03-14"},
        raise_on_error=False,
    )
    assert not failed.success
    assert snapshot(world) == before


def tick(instance: DagsterInstance, cursor: str | None) -> SensorResult:
    sensor = defs.resolve_sensor_def("attribution_landing_sensor")
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": LandingArea()}
    )
    result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def test_late_impressions_file_re_materializes_the_days_it_touches(
    world: World, instance: DagsterInstance
):
    busy_fortnight(world)
    world.person("lou", uid2="U-lou")
    world.land(
        "conversions",
        "lou.csv",
        [
            {
                "conversion_id": "c-lou",
                "ts": "2025-03-12 10:00:00",
                "customer_id": "C-lou",
                "value": "99",
                "currency": "USD",
            }
        ],
    )
    first_tick = tick(instance, None)
    [initial] = first_tick.run_requests or []
    assert (initial.tags[RANGE_START_TAG], initial.tags[RANGE_END_TAG]) == (
        "2025-03-01",
        (date(2025, 3, 14) + timedelta(days=30)).isoformat(),
    )
    run_days(instance, "2025-03-01", "2025-03-14")
    assert world.query(
        "SELECT count(*) FROM attributed_conversions WHERE conversion_id = 'c-lou'"
    ) == [(0,)]
    quiet = tick(instance, first_tick.cursor)
    assert not quiet.run_requests and quiet.skip_reason

    # Lou's impression of 2025-03-05 arrives a week late, in a file of its own.
    world.land(
        "impressions",
        "late-2025-03-05.csv",
        [
            {
                "impression_id": "late-1",
                "ts": "2025-03-05 07:00:00",
                "campaign_id": "camp9",
                "id_type": "uid2",
                "id": "U-lou",
                "cost": "0.01",
            }
        ],
    )
    late_tick = tick(instance, quiet.cursor)
    [request] = late_tick.run_requests or []
    start, end = request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]
    assert (start, end) == ("2025-03-05", "2025-04-04")  # the day through day + 30
    run_days(instance, start, end)

    assert world.query(
        "SELECT impression_id, campaign_id, last_touch_value FROM attributed_conversions "
        "WHERE conversion_id = 'c-lou'"
    ) == [("late-1", "camp9", 99.0)]
    assert world.query(
        "SELECT CAST(last_touch_value AS DOUBLE) FROM campaign_attribution "
        "WHERE campaign_id = 'camp9' AND day = DATE '2025-03-12'"
    ) == [(99.0,)]
    assert not tick(instance, late_tick.cursor).run_requests
    assert json.loads(late_tick.cursor or "{}")["impressions/late-2025-03-05.csv"]["days"] == [
        "2025-03-05"
    ]


def test_affected_days_clips_to_partitions():
    d = date.fromisoformat
    assert affected_days(set(), set(), 30, d("2025-01-01"), d("2025-12-31")) is None
    assert affected_days({d("2025-03-05")}, set(), 30, d("2025-01-01"), d("2025-03-20")) == (
        d("2025-03-05"),
        d("2025-03-20"),
    )
    assert affected_days(
        set(), {d("2024-12-30"), d("2025-01-02")}, 30, d("2025-01-01"), d("2025-12-31")
    ) == (d("2025-01-01"), d("2025-01-02"))
    assert affected_days({d("2026-01-05")}, set(), 30, d("2025-01-01"), d("2025-12-31")) is None
