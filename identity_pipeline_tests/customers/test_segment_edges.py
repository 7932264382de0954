"""Each segment rule at its threshold's edge: on the threshold, and one step past it."""

from __future__ import annotations

from datetime import datetime

import pytest

from identity_pipeline.customers.config import (
    DEFAULT_ENGAGEMENT_ACTIONS,
    MetricsSettings,
    SegmentThresholds,
)
from identity_pipeline.customers.scoring import score_metrics, score_segments, score_value
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.customers.conftest import Journal

AS_OF = datetime(2025, 6, 30, 12, 0)
SCORED_AT = datetime(2030, 1, 1)


def segments(journal: Journal, **thresholds: float) -> dict[str, dict[str, object]]:
    settings = {
        "high_value_min_value": 1000.0,
        "lapsed_after_days": 90,
        "engaged_min_events": 3,
        "engaged_within_days": 30,
        **thresholds,
    }
    with connect(journal.db) as con:
        score_metrics(
            con,
            MetricsSettings(AS_OF, "USD", DEFAULT_ENGAGEMENT_ACTIONS),
            journal.landing / "currency_rates",
            SCORED_AT,
        )
        score_value(con, SCORED_AT)
        score_segments(con, SegmentThresholds(**settings), SCORED_AT)  # type: ignore[arg-type]
    return journal.rows("customer_segments")


@pytest.fixture
def edges(journal: Journal) -> Journal:
    journal.person("buyer")
    # Two purchases of 500 USD 10 days apart, the last exactly 90 days (to the minute) before
    # AS_OF: AOV 500, frequency 2 / 10 = 0.2, score 0.7 * 2 = 1.4;
    # predicted = 500 * 0.2 * 90 * 1.14 = 10,260.
    journal.event("buyer", "2025-03-22 12:00:00", "purchase", 500.0, "USD")
    journal.event("buyer", "2025-04-01 12:00:00", "purchase", 500.0, "USD")
    journal.person("browser")
    # Three product views, the last exactly 30 days before AS_OF.
    for hour in (10, 11, 12):
        journal.event("browser", f"2025-05-31 {hour}:00:00", "product_view")
    return journal


def test_the_hand_computed_edges(edges: Journal):
    rows = segments(edges)
    assert rows["buyer"]["predicted_90d_value"] == pytest.approx(10260.0)
    assert rows["buyer"]["days_since_last_purchase"] == 90
    assert rows["browser"]["engagement_events"] == 3
    assert rows["browser"]["days_since_engagement"] == 30


def test_high_value_is_strictly_above_the_threshold(edges: Journal):
    assert not segments(edges, high_value_min_value=10260.0)["buyer"]["is_high_value"]
    assert segments(edges, high_value_min_value=10259.99)["buyer"]["is_high_value"]


def test_lapsed_is_strictly_more_days_than_the_threshold(edges: Journal):
    on_the_edge = segments(edges, lapsed_after_days=90)["buyer"]
    assert not on_the_edge["is_lapsed"]
    assert on_the_edge["segment"] == "high_value"
    past_it = segments(edges, lapsed_after_days=89)["buyer"]
    assert past_it["is_lapsed"] and past_it["is_high_value"]
    assert past_it["segment"] == "lapsed"  # lapsed comes first


def test_a_buyer_below_every_threshold_is_a_customer(edges: Journal):
    assert segments(edges, high_value_min_value=1e9)["buyer"]["segment"] == "customer"


def test_engaged_needs_enough_events_within_the_window(edges: Journal):
    assert segments(edges)["browser"]["segment"] == "engaged_no_purchase"
    assert segments(edges, engaged_min_events=4)["browser"]["segment"] == "visitor"
    assert segments(edges, engaged_within_days=29)["browser"]["segment"] == "visitor"


def test_a_buyer_is_never_engaged_no_purchase(edges: Journal):
    edges.event("buyer", "2025-06-29 10:00:00", "page_view")
    edges.event("buyer", "2025-06-29 10:01:00", "page_view")
    edges.event("buyer", "2025-06-29 10:02:00", "page_view")
    assert not segments(edges)["buyer"]["is_engaged_no_purchase"]
