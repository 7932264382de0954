"""The definitions load, every job resolves, and the asset graph is the one we meant."""

from dagster import AssetKey

from identity_pipeline.definitions import defs

EXPECTED_GRAPH = {
    "raw_contacts": set(),
    "dii": {"raw_contacts"},
    "customer_dii": {"raw_contacts"},
    "dii_rejects": {"raw_contacts"},
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
