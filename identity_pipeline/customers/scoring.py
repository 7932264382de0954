"""Runs the scoring SELECTs on DuckDB: each table is rebuilt whole in one transaction, so a
failed run leaves the previous scores. The logic lives in sql/select_*.sql (portable SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from identity_pipeline.customers.config import MetricsSettings, SegmentThresholds
from identity_pipeline.customers.rates import read_rates, replace_rates
from identity_pipeline.warehouse import Params, execute, select_sql, transaction

SQL_PACKAGE = "identity_pipeline.customers"
SEGMENTS = ("lapsed", "high_value", "engaged_no_purchase", "customer", "visitor")
NO_CURRENCY = "(none)"
"""How spend_by_currency metadata names purchases that gave no currency."""


def _rebuild(con: duckdb.DuckDBPyConnection, table: str, params: Params) -> int:
    execute(con, f"DELETE FROM {table}")
    sql = select_sql(SQL_PACKAGE, f"select_{table}.sql")
    execute(con, f"INSERT INTO {table} BY NAME {sql}", params)
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _ts(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


@dataclass(frozen=True)
class MetricsReport:
    persons: int
    as_of: datetime
    as_of_source: str
    reporting_currency: str
    rates: int
    rate_files: list[str]
    purchases: int
    unconverted_purchases: int
    persons_with_purchases: int
    total_spend: float
    spend_by_currency: dict[str, dict[str, Any]]


def newest_event(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute("SELECT max(created_at) FROM person_journal").fetchall()[0]
    return row[0] if row[0] is not None else None


def score_metrics(
    con: duckdb.DuckDBPyConnection,
    settings: MetricsSettings,
    rates_folder: Path,
    scored_at: datetime,
) -> MetricsReport:
    """Load rate files (if any), then rebuild customer_spend_by_currency and customer_metrics."""
    rates = read_rates(rates_folder)  # before the transaction: a bad file changes nothing
    as_of, source = settings.as_of, "config"
    if as_of is None:
        as_of, source = newest_event(con), "newest_event"
    if as_of is None:
        as_of, source = scored_at, "scored_at (empty journal)"
    params: dict[str, object] = {
        "as_of": _ts(as_of),
        "scored_at": _ts(scored_at),
        "reporting_currency": settings.reporting_currency,
        "engagement_actions": settings.engagement_actions_param,
    }
    with transaction(con):
        if rates:
            replace_rates(con, rates, scored_at)
        _rebuild(con, "customer_spend_by_currency", params)
        persons = _rebuild(con, "customer_metrics", params)
    rate_count, rate_files = con.execute(
        "SELECT count(*), list(DISTINCT source_file ORDER BY source_file) "
        "FILTER (WHERE source_file IS NOT NULL) FROM currency_rates"
    ).fetchall()[0]
    totals = con.execute(
        "SELECT coalesce(sum(total_purchases), 0), coalesce(sum(unconverted_purchases), 0), "
        "count(*) FILTER (WHERE total_purchases > 0), coalesce(sum(total_spend), 0) "
        "FROM customer_metrics"
    ).fetchall()[0]
    by_currency: dict[str, dict[str, Any]] = {}
    for currency, purchases, spend, rate, unconverted, spend_reporting in con.execute(
        "SELECT currency, sum(purchases), sum(spend), max(rate_to_reporting), "
        "sum(unconverted_purchases), sum(spend_reporting) FROM customer_spend_by_currency "
        "GROUP BY currency ORDER BY currency NULLS LAST"
    ).fetchall():
        by_currency[currency or NO_CURRENCY] = {
            "purchases": int(purchases),
            "spend": round(float(spend), 2),
            "rate_to_reporting": rate,
            "unconverted_purchases": int(unconverted),
            "spend_reporting": None if spend_reporting is None else round(spend_reporting, 2),
        }
    return MetricsReport(
        persons=persons,
        as_of=as_of,
        as_of_source=source,
        reporting_currency=settings.reporting_currency,
        rates=int(rate_count),
        rate_files=list(rate_files or []),
        purchases=int(totals[0]),
        unconverted_purchases=int(totals[1]),
        persons_with_purchases=int(totals[2]),
        total_spend=float(totals[3]),
        spend_by_currency=by_currency,
    )


@dataclass(frozen=True)
class ValueReport:
    persons: int
    persons_with_value: int
    total_predicted_90d_value: float
    max_predicted_90d_value: float
    reporting_currency: str | None


def score_value(con: duckdb.DuckDBPyConnection, scored_at: datetime) -> ValueReport:
    with transaction(con):
        persons = _rebuild(con, "customer_value", {"scored_at": _ts(scored_at)})
    with_value, total, top, currency = con.execute(
        "SELECT count(*) FILTER (WHERE predicted_90d_value > 0), "
        "coalesce(sum(predicted_90d_value), 0), coalesce(max(predicted_90d_value), 0), "
        "any_value(reporting_currency) FROM customer_value"
    ).fetchall()[0]
    return ValueReport(persons, int(with_value), float(total), float(top), currency)


@dataclass(frozen=True)
class SegmentsReport:
    persons: int
    segments: dict[str, int]
    rules: dict[str, int]


def score_segments(
    con: duckdb.DuckDBPyConnection, thresholds: SegmentThresholds, scored_at: datetime
) -> SegmentsReport:
    params = {**thresholds.params(), "scored_at": _ts(scored_at)}
    with transaction(con):
        persons = _rebuild(con, "customer_segments", params)
    counts = dict(
        con.execute("SELECT segment, count(*) FROM customer_segments GROUP BY segment").fetchall()
    )
    high_value, lapsed, engaged = con.execute(
        "SELECT count(*) FILTER (WHERE is_high_value), count(*) FILTER (WHERE is_lapsed), "
        "count(*) FILTER (WHERE is_engaged_no_purchase) FROM customer_segments"
    ).fetchall()[0]
    return SegmentsReport(
        persons=persons,
        segments={name: int(counts.get(name, 0)) for name in SEGMENTS},
        rules={
            "high_value": int(high_value),
            "lapsed": int(lapsed),
            "engaged_no_purchase": int(engaged),
        },
    )
