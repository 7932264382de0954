"""The definitions load, every job resolves, and the asset graph is the one we meant."""

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from identity_pipeline.definitions import defs

LOOKUP_INPUTS = {"dii", "customer_dii", "uid2_mapping", "id5_mapping", "id5_uid_history", "optouts"}

EXPECTED_GRAPH = {
    "raw_contacts": set(),
    "dii": {"raw_contacts"},
    "customer_dii": {"raw_contacts"},
    "dii_rejects": {"raw_contacts"},
    "optouts": set(),
    "uid2_due_for_refresh": {"dii", "optouts"},
    "uid2_mapping": {"uid2_due_for_refresh"},
    "id5_due_for_refresh": {"dii", "optouts", "uid2_mapping"},
    "id5_mapping": {"id5_due_for_refresh"},
    "id5_uid_history": {"id5_due_for_refresh"},
    "impressions": set(),
    "conversions": set(),
    "attributed_conversions": {"impressions", "conversions", *LOOKUP_INPUTS},
    "campaign_attribution": {"attributed_conversions", "impressions", *LOOKUP_INPUTS},
    "customer_metrics": {"person_journal", "persons"},
    "customer_value": {"customer_metrics"},
    "customer_segments": {"customer_value"},
    "forget_requests": set(),
    "identity_events": set(),
    "identity_graph": {"identity_events", "customer_dii", "dii"},
    "persons": {"identity_graph", "identity_events"},
    "person_journal": {"identity_graph", "identity_events"},
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


def test_everything_that_calls_uid2_is_in_one_pool():
    graph = defs.resolve_asset_graph()
    pools = {
        key.to_user_string(): graph.get(key).pools
        for key in graph.get_all_asset_keys()
        if key.to_user_string().startswith("uid2_")
    }
    assert pools == {"uid2_due_for_refresh": {"uid2_api"}, "uid2_mapping": {"uid2_api"}}


def test_everything_that_calls_id5_is_in_its_own_pool():
    graph = defs.resolve_asset_graph()
    pools = {
        key.to_user_string(): graph.get(key).pools
        for key in graph.get_all_asset_keys()
        if key.to_user_string().startswith("id5_")
    }
    assert pools == {
        "id5_due_for_refresh": {"id5_api"},
        "id5_mapping": {"id5_api"},
        "id5_uid_history": {"id5_api"},
    }


def test_id5_refresh_job_applies_optouts_then_maps():
    job = defs.resolve_job_def("id5_refresh")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert selected == {"optouts", "id5_due_for_refresh", "id5_mapping", "id5_uid_history"}


def test_optout_check_blocks_uid2_mapping():
    graph = defs.resolve_asset_graph()
    keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("uid2_mapping", "opted_out_hold_no_ids") in keys
    assert ("optouts", "opted_out_hold_no_ids") in keys
    assert ("id5_mapping", "opted_out_hold_no_ids") in keys


def test_daily_refresh_schedule_targets_the_refresh_job_at_the_configured_hour():
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.job_name == "refresh_mappings"
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"


def test_automation_settings_are_validated(monkeypatch):
    import pytest

    from identity_pipeline import settings

    monkeypatch.setenv(settings.ENV_REFRESH_HOUR, "24")
    with pytest.raises(ValueError, match="0-23"):
        settings.refresh_hour_utc()
    monkeypatch.setenv(settings.ENV_AUTOMATION, "sometimes")
    with pytest.raises(ValueError, match="running"):
        settings.automation_running()


def test_identity_graph_refresh_is_the_whole_unpartitioned_group_with_sensor_and_schedule():
    graph = defs.resolve_asset_graph()
    group = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == "identity_graph"
    }
    assert {"identity_events", "identity_graph", "persons", "person_journal"} <= group
    for name in group:
        assert graph.get(AssetKey(name)).partitions_def is None
    job = defs.resolve_job_def("identity_graph_refresh")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == group
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("identity_graph", "no_new_hubs") in checks
    assert defs.resolve_sensor_def("event_files_sensor").job_name == "identity_graph_refresh"
    schedule = defs.resolve_schedule_def("daily_identity_graph")
    assert schedule.job_name == "identity_graph_refresh"
    assert schedule.cron_schedule == "0 1 * * *"  # an hour before daily_refresh


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


def test_daily_attribution_schedule_requests_yesterdays_partition():
    from datetime import UTC, datetime

    from dagster import DagsterInstance, build_schedule_context

    schedule = defs.resolve_schedule_def("daily_attribution")
    assert schedule.job_name == "attribution"
    assert schedule.cron_schedule == "0 3 * * *"
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 23, 3, tzinfo=UTC)
        )
        (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-11-22"


def test_dagster_loads_the_code_location_as_its_cli_does(tmp_path):
    """One Definitions at module scope: `dagster` refuses a module with several."""
    dagster = str(Path(sys.executable).parent / "dagster")
    result = subprocess.run(
        [dagster, "definitions", "validate", "-m", "identity_pipeline.definitions"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful" in result.stdout + result.stderr
