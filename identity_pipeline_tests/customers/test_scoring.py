"""Seed 003's scoring on hand-built journals; every expected figure is worked out by hand in
the comments, never by running the SQL again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from identity_pipeline.customers.config import (
    DEFAULT_ENGAGEMENT_ACTIONS,
    MetricsSettings,
    SegmentThresholds,
)
from identity_pipeline.customers.rates import read_rates
from identity_pipeline.customers.scoring import (
    MetricsReport,
    SegmentsReport,
    score_metrics,
    score_segments,
    score_value,
)
from identity_pipeline.dev.currency_rates import SAMPLE_RATES, write_sample_rates
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.customers.conftest import Journal

SCORED_AT = datetime(2030, 1, 1)  # wall clock of the run: must not change any score
DEFAULTS = SegmentThresholds(
    high_value_min_value=1000.0, lapsed_after_days=90, engaged_min_events=3, engaged_within_days=30
)


def score(
    journal: Journal,
    *,
    as_of: datetime | None = None,
    currency: str = "USD",
    thresholds: SegmentThresholds = DEFAULTS,
) -> tuple[MetricsReport, SegmentsReport]:
    with connect(journal.db) as con:
        metrics = score_metrics(
            con,
            MetricsSettings(as_of, currency, DEFAULT_ENGAGEMENT_ACTIONS),
            journal.landing / "currency_rates",
            SCORED_AT,
        )
        score_value(con, SCORED_AT)
        segments = score_segments(con, thresholds, SCORED_AT)
    return metrics, segments


def build_world(journal: Journal) -> None:
    """Five persons; the newest event (alice's login, 2025-03-11 12:02) is the default as-of."""
    for name in ("alice", "bob", "carol", "dave", "erin"):
        journal.person(name)
    # alice: two USD purchases 10 days 1h50m apart, four engagement events, one login.
    journal.event("alice", "2025-03-01 10:00:00", "page_view")
    journal.event("alice", "2025-03-01 10:05:00", "product_view")
    journal.event("alice", "2025-03-01 10:10:00", "purchase", 100.0, "USD")
    journal.event("alice", "2025-03-05 09:00:00", "pageview")
    journal.event("alice", "2025-03-11 12:00:00", "purchase", 50.0, "USD")
    journal.event("alice", "2025-03-11 12:01:00", "add_to_cart", 20.0, "USD")  # not spend
    journal.event("alice", "2025-03-11 12:02:00", "login")
    # bob: EUR, GBP, a purchase without value or currency, and JPY, which has no rate.
    journal.event("bob", "2025-02-01 00:00:00", "purchase", 100.0, "EUR")
    journal.event("bob", "2025-02-02 00:00:00", "purchase")
    journal.event("bob", "2025-02-03 00:00:00", "purchase", 200.0, "gbp ")
    journal.event("bob", "2025-02-04 12:00:00", "purchase", 3000.0, "JPY")
    # carol: three page views a day before as-of, no purchase.
    for minute in range(3):
        journal.event("carol", f"2025-03-10 08:0{minute}:00", "page_view")
    # dave: a person with no events at all. erin: one purchase, 100 days before as-of.
    journal.event("erin", "2024-12-01 12:02:00", "purchase", 40.0, "USD")
    # 1 EUR = 1.1 USD (direct); 1 USD = 0.8 GBP (inverse: 1 GBP = 1.25 USD).
    journal.rates(("EUR", "USD", 1.1), ("USD", "GBP", 0.8))


def test_metrics_and_predicted_value_match_the_hand_computed_journal(journal: Journal):
    build_world(journal)
    report, _ = score(journal)
    assert report.as_of == datetime(2025, 3, 11, 12, 2)
    assert report.as_of_source == "newest_event"
    metrics = journal.rows("customer_metrics")
    value = journal.rows("customer_value")
    assert set(metrics) == {"alice", "bob", "carol", "dave", "erin"}

    alice = metrics["alice"]
    # 2 purchases, 150 USD, AOV 75; 10 whole days between them -> frequency 2 / 10 = 0.2.
    assert alice["total_purchases"] == 2
    assert alice["total_spend"] == pytest.approx(150.0)
    assert alice["avg_order_value"] == pytest.approx(75.0)
    assert alice["first_purchase_at"] == datetime(2025, 3, 1, 10, 10)
    assert alice["last_purchase_at"] == datetime(2025, 3, 11, 12, 0)
    assert alice["days_active"] == 10
    assert alice["purchase_frequency"] == pytest.approx(0.2)
    # page_view, product_view, pageview, add_to_cart = 4; 0.3 * 4 + 0.7 * 2 = 2.6.
    assert alice["engagement_events"] == 4
    assert alice["engagement_score"] == pytest.approx(2.6)
    assert alice["events"] == 7
    # 75 * 0.2 * 90 * (1 + 0.26) = 1350 * 1.26 = 1701.
    assert value["alice"]["predicted_90d_value"] == pytest.approx(1701.0)

    bob = metrics["bob"]
    # 110 USD (EUR) + 0 (no value) + 250 USD (GBP) = 360 over 3 converted purchases; the JPY
    # purchase counts as a purchase but not as money: AOV 120.
    assert (bob["total_purchases"], bob["converted_purchases"], bob["unconverted_purchases"]) == (
        4,
        3,
        1,
    )
    assert bob["total_spend"] == pytest.approx(360.0)
    assert bob["avg_order_value"] == pytest.approx(120.0)
    # 3 days 12 h -> 3 whole days; 4 / 3 purchases a day; score 0.7 * 4 = 2.8.
    assert bob["days_active"] == 3
    assert bob["purchase_frequency"] == pytest.approx(4 / 3)
    assert bob["engagement_score"] == pytest.approx(2.8)
    # 120 * 4/3 * 90 * 1.28 = 14,400 * 1.28 = 18,432.
    assert value["bob"]["predicted_90d_value"] == pytest.approx(18432.0)
    # 2025-02-04 12:00 -> 2025-03-11 12:02 is 35 days and 2 minutes.
    assert bob["days_since_last_purchase"] == 35

    for nobody in ("carol", "dave"):
        row = metrics[nobody]
        assert row["total_purchases"] == 0
        assert row["total_spend"] == 0.0
        assert row["avg_order_value"] == 0.0
        assert row["purchase_frequency"] == 0.0
        assert row["first_purchase_at"] is None and row["days_since_last_purchase"] is None
        assert value[nobody]["predicted_90d_value"] == 0.0
    assert metrics["carol"]["engagement_score"] == pytest.approx(0.9)  # 0.3 * 3
    assert metrics["carol"]["days_since_engagement"] == 1
    assert metrics["dave"]["events"] == 0 and metrics["dave"]["engagement_score"] == 0.0

    # erin: one purchase -> 0 days active -> frequency 0 and no predicted value (seed 003).
    assert metrics["erin"]["days_active"] == 0
    assert metrics["erin"]["avg_order_value"] == pytest.approx(40.0)
    assert value["erin"]["predicted_90d_value"] == 0.0
    assert metrics["erin"]["days_since_last_purchase"] == 100  # 31 + 31 + 28 + 10


def test_segments_of_the_hand_computed_journal(journal: Journal):
    build_world(journal)
    _, report = score(journal)
    segments = journal.rows("customer_segments")
    assert {k: v["segment"] for k, v in segments.items()} == {
        "alice": "high_value",  # 1701 > 1000
        "bob": "high_value",  # 18,432; last purchase 35 days ago
        "carol": "engaged_no_purchase",  # 3 engagement events, 1 day ago
        "dave": "visitor",
        "erin": "lapsed",  # 100 > 90 days
    }
    assert report.segments == {
        "lapsed": 1,
        "high_value": 2,
        "engaged_no_purchase": 1,
        "customer": 0,
        "visitor": 1,
    }
    assert report.rules == {"high_value": 2, "lapsed": 1, "engaged_no_purchase": 1}


def test_a_later_as_of_makes_buyers_lapse_and_ignores_nothing_before_it(journal: Journal):
    build_world(journal)
    # As of 2025-06-19 12:00, alice's last purchase (2025-03-11 12:00) is 31 + 30 + 31 + 8 =
    # 100 whole days old, bob's 135: both lapsed, and lapsed wins over high_value.
    score(journal, as_of=datetime(2025, 6, 19, 12, 0))
    segments = journal.rows("customer_segments")
    assert segments["alice"]["days_since_last_purchase"] == 100
    assert segments["alice"]["segment"] == "lapsed"
    assert segments["alice"]["is_high_value"] and segments["alice"]["is_lapsed"]
    assert segments["bob"]["days_since_last_purchase"] == 135  # 2025-02-04 12:00 -> 06-19 12:00
    # carol's page views are 101 days old: no longer engaged.
    assert segments["carol"]["segment"] == "visitor"


def test_an_earlier_as_of_leaves_later_events_out(journal: Journal):
    build_world(journal)
    # Up to 2025-03-05 09:00, alice has one purchase (100 USD) and three engagement events.
    report, _ = score(journal, as_of=datetime(2025, 3, 5, 9, 0))
    alice = journal.rows("customer_metrics")["alice"]
    assert report.as_of_source == "config"
    assert (alice["total_purchases"], alice["engagement_events"], alice["events"]) == (1, 3, 4)
    assert alice["total_spend"] == pytest.approx(100.0)
    assert alice["days_since_last_purchase"] == 3  # 03-01 10:10 -> 03-05 09:00


def test_the_run_clock_does_not_change_scores(journal: Journal):
    build_world(journal)
    score(journal)
    first = journal.query("SELECT * EXCLUDE (updated_at) FROM customer_value ORDER BY person_id")
    with connect(journal.db) as con:
        score_metrics(
            con,
            MetricsSettings(None, "USD", DEFAULT_ENGAGEMENT_ACTIONS),
            journal.landing / "currency_rates",
            datetime(2031, 6, 1),
        )
        score_value(con, datetime(2031, 6, 1))
    again = journal.query("SELECT * EXCLUDE (updated_at) FROM customer_value ORDER BY person_id")
    assert again == first


def test_currencies_are_converted_or_kept_apart_never_summed_blindly(journal: Journal):
    build_world(journal)
    report, _ = score(journal)
    spend = {
        (r[0], r[1]): r[2:]
        for r in journal.query(
            "SELECT person_id, currency, purchases, spend, rate_to_reporting, "
            "converted_purchases, unconverted_purchases, spend_reporting "
            "FROM customer_spend_by_currency"
        )
    }
    assert spend[("bob", "EUR")] == (1, 100.0, 1.1, 1, 0, pytest.approx(110.0))
    assert spend[("bob", "GBP")] == (1, 200.0, 1.25, 1, 0, pytest.approx(250.0))
    # No rate for JPY: the 3,000 JPY stay JPY and are counted, not converted.
    assert spend[("bob", "JPY")] == (1, 3000.0, None, 0, 1, None)
    # No value and no currency: seed 003 counts it as 0, which is 0 in every currency.
    assert spend[("bob", None)] == (1, 0.0, None, 1, 0, 0.0)
    assert report.unconverted_purchases == 1
    assert report.spend_by_currency["JPY"] == {
        "purchases": 1,
        "spend": 3000.0,
        "rate_to_reporting": None,
        "unconverted_purchases": 1,
        "spend_reporting": None,
    }
    assert report.spend_by_currency["USD"]["spend"] == pytest.approx(190.0)  # 100 + 50 + 40
    # 150 (alice) + 360 (bob) + 40 (erin) = 550 USD.
    assert report.total_spend == pytest.approx(550.0)


def test_reporting_in_euros_uses_only_rates_to_or_from_euros(journal: Journal):
    build_world(journal)
    score(journal, currency="EUR")
    bob = journal.rows("customer_metrics")["bob"]
    # EUR 100 at 1 and the valueless purchase at 0 convert; GBP has no EUR pair (rates are
    # never chained through USD) and JPY no rate at all: 2 unconverted.
    assert (bob["converted_purchases"], bob["unconverted_purchases"]) == (2, 2)
    assert bob["total_spend"] == pytest.approx(100.0)
    assert bob["avg_order_value"] == pytest.approx(50.0)
    # 50 * 4/3 * 90 * 1.28 = 7,680.
    assert journal.rows("customer_value")["bob"]["predicted_90d_value"] == pytest.approx(7680.0)
    # alice's USD: 1 EUR = 1.1 USD, so 150 USD = 136.36... EUR.
    assert journal.rows("customer_metrics")["alice"]["total_spend"] == pytest.approx(150 / 1.1)


def test_rate_files_in_landing_replace_the_table(journal: Journal):
    build_world(journal)
    folder = journal.landing / "currency_rates"
    folder.mkdir(parents=True)
    (folder / "rates.csv").write_text(
        "from_currency,to_currency,rate\neur,USD,1.2\nJPY,USD,0.01\n", encoding="utf-8"
    )
    report, _ = score(journal)
    assert report.rates == 2 and report.rate_files == ["rates.csv"]
    bob = journal.rows("customer_metrics")["bob"]
    # GBP's rate came from the table, which the file replaced: now GBP is unconverted.
    # 120 (EUR) + 0 + 30 (JPY) = 150 over 3 converted purchases.
    assert (bob["converted_purchases"], bob["unconverted_purchases"]) == (3, 1)
    assert bob["total_spend"] == pytest.approx(150.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("from,to,rate\nEUR,USD,1.1\n", "header lacks from_currency, to_currency"),
        ("from_currency,to_currency,rate\nEUR,USD,1.1\nEURO,USD,1\n", "line 3 from_currency"),
        ("from_currency,to_currency,rate\nEUR,USD,zero\n", "line 2 rate: not a number"),
        ("from_currency,to_currency,rate\nEUR,USD,-1\n", "line 2 rate: must be a positive"),
        ("from_currency,to_currency,rate\nEUR,USD,1\nEUR,USD,2\n", "also given in"),
    ],
)
def test_a_bad_rate_file_fails_naming_file_line_and_field_and_changes_nothing(
    journal: Journal, content: str, message: str
):
    build_world(journal)
    score(journal)
    before = journal.query("SELECT * FROM customer_metrics ORDER BY person_id")
    folder = journal.landing / "currency_rates"
    folder.mkdir(parents=True)
    (folder / "bad.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as failure:
        score(journal)
    assert "currency_rates/bad.csv" in str(failure.value)
    assert journal.query("SELECT * FROM customer_metrics ORDER BY person_id") == before
    assert journal.query("SELECT count(*) FROM currency_rates") == [(2,)]


def test_the_demos_sample_rates_file_reads_back(tmp_path: Path):
    write_sample_rates(tmp_path)
    (tmp_path / "currency_rates" / ".half.csv").write_text("from_currency\n", encoding="utf-8")
    rates = read_rates(tmp_path / "currency_rates")
    assert [(r.from_currency, r.to_currency, r.rate) for r in rates] == list(SAMPLE_RATES)
