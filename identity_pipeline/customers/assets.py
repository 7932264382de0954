"""The scoring assets: customer_metrics -> customer_value -> customer_segments.

Unpartitioned members of the `identity_graph` group (the graph is global), so the
`identity_graph_refresh` job rebuilds them after persons and person_journal. Metadata holds
aggregates only: counts, totals per currency, segment sizes, never a person.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from identity_pipeline import settings
from identity_pipeline.customers.config import (
    CustomerMetricsConfig,
    CustomerSegmentsConfig,
    metrics_settings,
    segment_thresholds,
)
from identity_pipeline.customers.scoring import score_metrics, score_segments, score_value
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.warehouse import naive_utc

GROUP = "identity_graph"
RATES_FOLDER = "currency_rates"
"""Landing subfolder with exchange-rate CSV files (see rates.py)."""

CURRENCY_HANDLING = (
    "Converted into the reporting currency with currency_rates (direct or inverse pair); a "
    "purchase whose currency has no rate is kept apart in customer_spend_by_currency and "
    "counted as unconverted, never added to other money."
)


def _scoring_asset(
    *, deps: Sequence[Any], description: str
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """What the three scoring assets share: the identity graph's group, DuckDB, one step after
    `deps`."""
    return asset(group_name=GROUP, kinds={"duckdb"}, deps=deps, description=description)


def _scored(persons: int, started: float, figures: dict[str, Any]) -> MaterializeResult[None]:
    """A scoring asset's result: one row per scored person, its own figures, the seconds taken."""
    return MaterializeResult(
        metadata={
            "dagster/row_count": persons,
            "persons_scored": persons,
            **figures,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@_scoring_asset(
    deps=[AssetKey("person_journal"), AssetKey("persons")],
    description="Seed 003's customer metrics per person: purchases, spend and average order "
    "value (reporting currency), first/last purchase, purchase frequency, engagement score "
    "(0.3 x engagement events + 0.7 x purchases); also customer_spend_by_currency and "
    "currency_rates (from landing currency_rates/).",
)
def customer_metrics(
    context: AssetExecutionContext,
    config: CustomerMetricsConfig,
    warehouse: DuckDBWarehouse,
    landing: LandingArea,
) -> MaterializeResult[None]:
    started = time.perf_counter()
    run_settings = metrics_settings(config)
    with warehouse.connect() as con:
        report = score_metrics(
            con, run_settings, landing.root / RATES_FOLDER, naive_utc(settings.now())
        )
    if report.unconverted_purchases:
        context.log.warning(
            f"{report.unconverted_purchases} purchase(s) in a currency without a rate to "
            f"{report.reporting_currency} are not in spend; see customer_spend_by_currency"
        )
    return _scored(
        report.persons,
        started,
        {
            "persons_with_purchases": report.persons_with_purchases,
            "persons_without_purchase": report.persons - report.persons_with_purchases,
            "as_of": report.as_of.isoformat(sep=" "),
            "as_of_source": report.as_of_source,
            "reporting_currency": report.reporting_currency,
            "currency_handling": CURRENCY_HANDLING,
            "engagement_actions": ", ".join(run_settings.engagement_actions),
            "purchases": report.purchases,
            "unconverted_purchases": report.unconverted_purchases,
            "total_spend_reporting": round(report.total_spend, 2),
            "spend_by_currency": MetadataValue.json(report.spend_by_currency),
            "currency_rates": report.rates,
            "currency_rate_files": ", ".join(report.rate_files),
        },
    )


@_scoring_asset(
    deps=[customer_metrics],
    description="Seed 003's predicted 90-day value per person (reporting currency): "
    "avg_order_value x purchase_frequency x 90 x (1 + 0.1 x engagement_score).",
)
def customer_value(warehouse: DuckDBWarehouse) -> MaterializeResult[None]:
    started = time.perf_counter()
    with warehouse.connect() as con:
        report = score_value(con, naive_utc(settings.now()))
    return _scored(
        report.persons,
        started,
        {
            "persons_with_predicted_value": report.persons_with_value,
            "reporting_currency": report.reporting_currency or "",
            "total_predicted_90d_value": round(report.total_predicted_90d_value, 2),
            "max_predicted_90d_value": round(report.max_predicted_90d_value, 2),
        },
    )


@_scoring_asset(
    deps=[customer_value],
    description="One segment per person: lapsed, high_value, engaged_no_purchase, customer or "
    "visitor (first rule that holds), with a flag per rule; thresholds are run config or env.",
)
def customer_segments(
    config: CustomerSegmentsConfig, warehouse: DuckDBWarehouse
) -> MaterializeResult[None]:
    started = time.perf_counter()
    thresholds = segment_thresholds(config)
    with warehouse.connect() as con:
        report = score_segments(con, thresholds, naive_utc(settings.now()))
    return _scored(
        report.persons,
        started,
        {
            **{f"segment_{name}": count for name, count in report.segments.items()},
            "segment_counts": MetadataValue.json(report.segments),
            "rule_counts": MetadataValue.json(report.rules),
            "thresholds": MetadataValue.json(thresholds.params()),
        },
    )
