"""Through the attribution job on a real Dagster instance: a run of both attribution assets
leaves nothing kept behind, and a run of attributed_conversions alone keeps nothing (the
campaign delivery is kept only for a campaign_attribution step of the same run)."""

from dagster import AssetKey, DagsterInstance

from identity_pipeline.attribution.compute import KEPT_DELIVERY, KEPT_DELIVERY_PIN
from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
from identity_pipeline.definitions import defs
from identity_pipeline_tests.attribution.conftest import (
    CONVERSION_COLUMNS,
    IMPRESSION_COLUMNS,
    World,
    run_days,
)

KEPT = "SELECT table_name FROM duckdb_tables() WHERE table_name IN (?, ?) ORDER BY 1"


def land_one_touch(world: World) -> None:
    world.person("ann", uid2="U-ann")
    impression = ["i1", "2025-03-10 09:00:00", "spring", "uid2", "U-ann", "0.002"]
    world.land(
        "impressions", "2025-03-10.csv", [dict(zip(IMPRESSION_COLUMNS, impression, strict=True))]
    )
    conversion = ["c1", "2025-03-10 12:00:00", "C-ann", "", "40", "USD"]
    world.land(
        "conversions", "2025-03-10.csv", [dict(zip(CONVERSION_COLUMNS, conversion, strict=True))]
    )


def test_a_whole_run_reads_and_drops_the_kept_delivery(world: World, instance: DagsterInstance):
    land_one_touch(world)
    run_days(instance, "2025-03-10", "2025-03-10")
    assert world.query(
        "SELECT campaign_id, impressions, people_reached, touched_conversions "
        "FROM campaign_attribution"
    ) == [("spring", 1, 1, 1)]
    assert world.query(KEPT, [KEPT_DELIVERY, KEPT_DELIVERY_PIN]) == []


def test_a_run_without_campaign_attribution_keeps_nothing(world: World, instance: DagsterInstance):
    land_one_touch(world)
    result = defs.resolve_job_def("attribution").execute_in_process(
        instance=instance,
        tags={RANGE_START_TAG: "2025-03-10", RANGE_END_TAG: "2025-03-10"},
        asset_selection=[
            AssetKey("impressions"),
            AssetKey("conversions"),
            AssetKey("attributed_conversions"),
        ],
    )
    assert result.success
    assert world.query("SELECT conversion_id, impression_id FROM attributed_conversions") == [
        ("c1", "i1")
    ]
    assert world.query("SELECT count(*) FROM campaign_attribution") == [(0,)]
    assert world.query(KEPT, [KEPT_DELIVERY, KEPT_DELIVERY_PIN]) == []
