"""The scoring assets through Dagster: a real instance on disk, the real DuckDB file, run
config and environment variables, metadata that holds aggregates only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from identity_pipeline.customers import config
from identity_pipeline.customers.assets import customer_metrics, customer_segments, customer_value
from identity_pipeline.dagster_instance import ENV_DAGSTER_HOME, use_project_instance
from identity_pipeline.definitions import defs
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline_tests.customers.conftest import Journal
from identity_pipeline_tests.customers.test_scoring import build_world

ASSETS = [customer_metrics, customer_value, customer_segments]


@pytest.fixture
def disk_instance(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DagsterInstance]:
    monkeypatch.setenv(ENV_DAGSTER_HOME, str(workspace / "dagster_home"))
    use_project_instance()
    with DagsterInstance.get() as instance:
        yield instance


def run(instance: DagsterInstance, run_config: dict[str, Any] | None = None) -> Any:
    return materialize(
        ASSETS,
        instance=instance,
        resources={"warehouse": DuckDBWarehouse(), "landing": LandingArea()},
        run_config=run_config or {},
    )


def metadata(instance: DagsterInstance, asset: str) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(AssetKey(asset))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_the_assets_are_in_the_identity_graph_group_after_the_journal():
    graph = defs.resolve_asset_graph()
    parents = {
        name: {p.to_user_string() for p in graph.get(AssetKey(name)).parent_keys}
        for name in ("customer_metrics", "customer_value", "customer_segments")
    }
    assert parents == {
        "customer_metrics": {"person_journal", "persons"},
        "customer_value": {"customer_metrics"},
        "customer_segments": {"customer_value"},
    }
    group = AssetSelection.groups("identity_graph").resolve(graph)
    assert {AssetKey(n) for n in parents} <= group
    assert all(graph.get(AssetKey(n)).partitions_def is None for n in parents)


def test_materializing_writes_scores_and_aggregate_metadata(
    journal: Journal, disk_instance: DagsterInstance
):
    build_world(journal)
    result = run(disk_instance)
    assert result.success
    metrics = metadata(disk_instance, "customer_metrics")
    assert metrics["persons_scored"] == 5
    assert metrics["persons_without_purchase"] == 2  # carol, dave
    assert metrics["as_of"] == "2025-03-11 12:02:00"
    assert metrics["as_of_source"] == "newest_event"
    assert metrics["reporting_currency"] == "USD"
    assert metrics["purchases"] == 7
    assert metrics["unconverted_purchases"] == 1
    assert metrics["total_spend_reporting"] == pytest.approx(550.0)
    assert metrics["spend_by_currency"]["GBP"]["spend_reporting"] == pytest.approx(250.0)
    assert metrics["spend_by_currency"]["JPY"]["spend_reporting"] is None
    assert "kept apart" in metrics["currency_handling"]
    value = metadata(disk_instance, "customer_value")
    assert value["total_predicted_90d_value"] == pytest.approx(1701.0 + 18432.0)
    segments = metadata(disk_instance, "customer_segments")
    assert segments["segment_counts"] == {
        "lapsed": 1,
        "high_value": 2,
        "engaged_no_purchase": 1,
        "customer": 0,
        "visitor": 1,
    }
    assert segments["thresholds"]["high_value_min_value"] == 1000.0
    everything = str([metrics, value, segments])
    for person in ("alice", "bob", "carol", "dave", "erin"):
        assert person not in everything  # aggregates only


def test_run_config_and_environment_set_as_of_currency_and_thresholds(
    journal: Journal, disk_instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
):
    build_world(journal)
    # The environment sets a 2,000 high-value bar; run config overrides as-of and lapsing.
    monkeypatch.setenv(config.ENV_HIGH_VALUE_MIN, "2000")
    monkeypatch.setenv(config.ENV_REPORTING_CURRENCY, "eur")
    result = run(
        disk_instance,
        {
            "ops": {
                "customer_metrics": {"config": {"as_of": "2025-03-11"}},
                "customer_segments": {"config": {"lapsed_after_days": 120}},
            }
        },
    )
    assert result.success
    metrics = metadata(disk_instance, "customer_metrics")
    assert metrics["as_of"] == "2025-03-11 23:59:59.999999"  # a date means its whole day
    assert metrics["as_of_source"] == "config"
    assert metrics["reporting_currency"] == "EUR"
    rows = journal.rows("customer_segments")
    # In EUR bob's value is 7,680 (> 2,000), alice's 1701 / 1.1 = 1,546.4 (< 2,000);
    # erin (100 days) is not lapsed at 120.
    assert rows["bob"]["segment"] == "high_value"
    assert rows["alice"]["segment"] == "customer"
    assert rows["erin"]["segment"] == "customer"
    assert metadata(disk_instance, "customer_segments")["thresholds"] == {
        "high_value_min_value": 2000.0,
        "lapsed_after_days": 120,
        "engaged_min_events": 3,
        "engaged_within_days": 30,
    }


def test_a_bad_setting_fails_the_run_naming_it(
    journal: Journal, disk_instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
):
    build_world(journal)
    monkeypatch.setenv(config.ENV_REPORTING_CURRENCY, "dollars")
    with pytest.raises(ValueError, match=config.ENV_REPORTING_CURRENCY):
        run(disk_instance)
