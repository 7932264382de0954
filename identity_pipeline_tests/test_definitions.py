"""The definitions load, every job resolves, and the asset graph is the one we meant."""

from dagster import AssetKey

from identity_pipeline.definitions import defs

LOOKUP_INPUTS = {"dii", "customer_dii", "uid2_mapping", "id5_mapping", "id5_uid_history", "optouts"}

EXPECTED_GRAPH = {
    "raw_contacts": set(),
    "dii": {"raw_contacts"},
    "customer_dii": {"raw_contacts"},
    "dii_rejects": {"raw_contacts"},
    # owned by the UID2/ID5 mapping work; external assets until it merges
    "uid2_mapping": set(),
    "id5_mapping": set(),
    "id5_uid_history": set(),
    "optouts": set(),
    "impressions": set(),
    "conversions": set(),
    "attributed_conversions": {"impressions", "conversions", *LOOKUP_INPUTS},
    "campaign_attribution": {"attributed_conversions", "impressions", *LOOKUP_INPUTS},
}


def test_every_job_resolves():
    repo = defs.get_repository_def()
    for job in repo.get_all_jobs():
        assert job.name


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    actual = {
        key.to_user_string(): {d.to_user_string() for d in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert actual == EXPECTED_GRAPH


def test_dii_has_a_blocking_uniqueness_check():
    graph = defs.resolve_asset_graph()
    checks = {k.name: k for k in graph.asset_check_keys}
    assert checks["dii_unique"].asset_key == AssetKey("dii")


def test_attribution_assets_are_daily_with_single_run_backfills():
    graph = defs.resolve_asset_graph()
    for name in ("impressions", "conversions", "attributed_conversions", "campaign_attribution"):
        node = graph.get(AssetKey(name))
        assert node.partitions_def is not None
        assert node.partitions_def.get_first_partition_key() == "2025-01-01"
        assert node.backfill_policy is not None
        assert node.backfill_policy.max_partitions_per_run is None  # the whole range in one run
    job = defs.resolve_job_def("attribution")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        "impressions",
        "conversions",
        "attributed_conversions",
        "campaign_attribution",
    }
