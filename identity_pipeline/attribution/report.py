"""Metadata for campaign_attribution: a narrow campaign table (Markdown), a chart of
attributed value per campaign over recent days (PNG, drawn by reporting/charts.py) and each
day's figures. Only aggregates appear here, never ids. The full table stays in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from identity_pipeline.reporting.charts import markdown_image, stacked_daily_bars

CHART_DAYS = 14
INLINE_MARKDOWN_LIMIT = 1000
"""The Dagster UI shows Markdown metadata shorter than this in place, longer behind a
"[Show Markdown]" link (dagster-webserver 1.13's MetadataEntry)."""


@dataclass(frozen=True)
class DayFigures:
    """One day's totals over all campaigns; value is None when currencies are mixed."""

    rows: int
    impressions: int
    last_touch_conversions: float
    last_touch_value: float | None


def _number(value: float | None) -> str:
    return "mixed" if value is None else f"{value:,.2f}"


def campaign_table(con: duckdb.DuckDBPyConnection, start: date, end: date, limit: int = 15) -> str:
    """The window's campaigns by attributed (last-touch) value, as a Markdown table narrow
    enough for the asset page: impressions, conversions and value, all last touch."""
    rows = con.execute(
        """
        SELECT campaign_id, sum(impressions), sum(last_touch_conversions),
               CASE WHEN count(DISTINCT currency) <= 1 AND count(*) = count(last_touch_value)
                    THEN sum(last_touch_value) END,
               min(currency)
        FROM campaign_attribution WHERE day >= ? AND day < ?
        GROUP BY campaign_id ORDER BY 4 DESC NULLS LAST, 1 LIMIT ?
        """,
        [start, end, limit],
    ).fetchall()
    currencies = {currency for *_, currency in rows if currency}
    unit = currencies.pop() if len(currencies) == 1 else "mixed"
    lines = [
        f"| campaign | impr. | conv. | value ({unit}) |",
        "|---|---:|---:|---:|",
    ]
    note = (
        f"\n{start.isoformat()} to {(end - timedelta(days=1)).isoformat()}, last-touch credit, "
        "top campaigns by value. All campaigns, reach and linear credit: table "
        "`campaign_attribution` in DuckDB."
    )
    for campaign, imps, conversions, value, _currency in rows:
        cells = [str(campaign), f"{int(imps):,}", f"{float(conversions):,.0f}", _number(value)]
        line = f"| {' | '.join(cells)} |"
        if sum(len(x) + 1 for x in [*lines, line, note]) >= INLINE_MARKDOWN_LIMIT:
            break  # longer Markdown hides behind "[Show Markdown]" in the UI
        lines.append(line)
    if not rows:
        lines.append("| (no campaigns in these days) | | | |")
    lines.append(note)
    return "\n".join(lines)


def value_chart(con: duckdb.DuckDBPyConnection, end: date, days: int = CHART_DAYS) -> str:
    """Markdown with a PNG: attributed value (last touch) per campaign per day for the `days`
    days before `end`, in the days' most common currency."""
    earliest = con.execute("SELECT min(day) FROM campaign_attribution").fetchall()[0][0]
    first = end - timedelta(days=days)
    if earliest is not None and first < earliest < end:
        first, days = earliest, (end - earliest).days  # no empty days before the data starts
    rows = con.execute(
        """
        WITH recent AS (
            SELECT * FROM campaign_attribution
            WHERE day >= ? AND day < ? AND last_touch_value IS NOT NULL
        ),
        main_currency AS (
            SELECT currency FROM recent WHERE currency IS NOT NULL
            GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1
        )
        SELECT day, campaign_id, sum(last_touch_value), any_value(currency)
        FROM recent
        WHERE currency IS NOT DISTINCT FROM (SELECT currency FROM main_currency)
        GROUP BY day, campaign_id
        """,
        [first, end],
    ).fetchall()
    all_days = [first + timedelta(days=i) for i in range(days)]
    position = {day: i for i, day in enumerate(all_days)}
    series: dict[str, list[float]] = {}
    currency = None
    for day, campaign, value, row_currency in rows:
        series.setdefault(str(campaign), [0.0] * days)[position[day]] = float(value)
        currency = currency or row_currency
    png = stacked_daily_bars(
        all_days,
        series,
        title=f"Attributed value (last touch) per campaign, {first} to {end - timedelta(1)}",
        unit=currency or "value",
    )
    return markdown_image(png, f"attributed value per campaign, {first} to {end}")


def day_figures(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[date, DayFigures]:
    """Each day of [start, end) with its totals (zeros for a day without rows)."""
    rows = con.execute(
        """
        SELECT day, count(*), sum(impressions), sum(last_touch_conversions),
               CASE WHEN count(DISTINCT currency) <= 1 AND count(*) = count(last_touch_value)
                    THEN coalesce(sum(last_touch_value), 0) END
        FROM campaign_attribution WHERE day >= ? AND day < ?
        GROUP BY day
        """,
        [start, end],
    ).fetchall()
    found = {
        day: DayFigures(
            int(n), int(imps), float(conversions), None if value is None else float(value)
        )
        for day, n, imps, conversions, value in rows
    }
    empty = DayFigures(0, 0, 0.0, 0.0)
    return {
        start + timedelta(days=i): found.get(start + timedelta(days=i), empty)
        for i in range((end - start).days)
    }
