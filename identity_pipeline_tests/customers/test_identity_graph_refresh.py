"""End to end through the real Dagster path: landed seed 003 event files and a rates file ->
`identity_graph_refresh` (events, graph, persons, journal, scoring) on an instance on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterInstance

from identity_pipeline.definitions import defs
from identity_pipeline_tests.customers.conftest import Journal
from identity_pipeline_tests.customers.test_scoring_assets import disk_instance, metadata

__all__ = ["disk_instance"]  # the fixture, shared with the asset tests

SHOPPER_EMAIL = "shopper.one@mail.test"


def event(event_id: str, created_at: str, action: str, **fields: Any) -> dict[str, Any]:
    properties = fields.pop("properties", {})
    return {
        "event_id": event_id,
        "created_at": created_at,
        "platform": "web",
        "count_prev_visits": True,
        **fields,
        "valuation_properties": {"action": action, "properties": properties},
    }


def land(landing: Path) -> None:
    events = [
        # One shopper on two devices, joined by a login with the same email on both.
        event("e01", "2025-03-01T10:00:00Z", "page_view", anonymous_id="dev-a1"),
        event(
            "e02",
            "2025-03-01T10:05:00Z",
            "purchase",
            anonymous_id="dev-a1",
            properties={"value": 100, "currency": "USD", "transaction_id": "T1"},
        ),
        event("e03", "2025-03-06T11:00:00Z", "login", anonymous_id="dev-a2", email=SHOPPER_EMAIL),
        event(
            "e04",
            "2025-03-06T11:05:00Z",
            "purchase",
            anonymous_id="dev-a2",
            properties={"value": 60, "currency": "EUR", "transaction_id": "T2"},
        ),
        event("e05", "2025-03-07T09:00:00Z", "login", anonymous_id="dev-a1", email=SHOPPER_EMAIL),
        # A browser: three page views, no purchase.
        *(
            event(f"e1{n}", f"2025-03-07T08:{n}0:00Z", "page_view", anonymous_id="dev-b1")
            for n in range(3)
        ),
        # A buyer in pounds, for which no rate is landed.
        event(
            "e20",
            "2025-03-02T12:00:00Z",
            "purchase",
            anonymous_id="dev-c1",
            properties={"value": 10, "currency": "GBP"},
        ),
    ]
    (landing / "events").mkdir(parents=True, exist_ok=True)
    (landing / "events" / "day1.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events), encoding="utf-8"
    )
    (landing / "currency_rates").mkdir(parents=True, exist_ok=True)
    (landing / "currency_rates" / "rates.csv").write_text(
        "from_currency,to_currency,rate\nEUR,USD,1.5\n", encoding="utf-8"
    )


def test_identity_graph_refresh_scores_the_stitched_persons(
    journal: Journal, disk_instance: DagsterInstance
):
    land(journal.landing)
    result = defs.resolve_job_def("identity_graph_refresh").execute_in_process(
        instance=disk_instance
    )
    assert result.success
    for asset in ("persons", "person_journal", "customer_metrics", "customer_segments"):
        assert disk_instance.get_latest_materialization_event(AssetKey(asset)) is not None

    metrics = journal.query(
        "SELECT total_purchases, total_spend, avg_order_value, days_active, purchase_frequency, "
        "engagement_score, unconverted_purchases, as_of FROM customer_metrics "
        "ORDER BY total_purchases DESC"
    )
    assert len(metrics) == 3  # the two devices are one person
    shopper, pound_buyer, browser = metrics
    # 100 USD + 60 EUR x 1.5 = 190 USD over 2 purchases; 2025-03-01 10:05 -> 03-06 11:05 is
    # 5 whole days: frequency 0.4; one page view: score 0.3 + 1.4 = 1.7.
    assert shopper[:4] == (2, pytest.approx(190.0), pytest.approx(95.0), 5)
    assert shopper[4] == pytest.approx(0.4)
    assert shopper[5] == pytest.approx(1.7)
    assert browser[:2] == (0, 0.0) and browser[5] == pytest.approx(0.9)
    assert pound_buyer[0] == 1 and pound_buyer[1] == 0.0 and pound_buyer[6] == 1
    assert {row[7].isoformat() for row in metrics} == {"2025-03-07T09:00:00"}  # newest event
    # 95 * 0.4 * 90 * 1.17 = 4,001.4.
    values = [v[0] for v in journal.query("SELECT predicted_90d_value FROM customer_value")]
    assert max(values) == pytest.approx(4001.4)

    segments = metadata(disk_instance, "customer_segments")
    assert segments["segment_counts"] == {
        "lapsed": 0,
        "high_value": 1,
        "engaged_no_purchase": 1,
        "customer": 1,
        "visitor": 0,
    }
    spend = metadata(disk_instance, "customer_metrics")
    assert spend["spend_by_currency"]["GBP"] == {
        "purchases": 1,
        "spend": 10.0,
        "rate_to_reporting": None,
        "unconverted_purchases": 1,
        "spend_reporting": None,
    }
    assert spend["currency_rate_files"] == "rates.csv"
    assert "mail.test" not in str(spend) + str(segments)
