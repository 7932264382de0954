"""Markdown for campaign_attribution metadata: a campaign table and a bar chart of recent days.

The Dagster UI renders Markdown but not images, so the chart is drawn with Unicode block
characters. Only aggregates appear here, never ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb

_EIGHTHS = " ▏▎▍▌▋▊▉"
CHART_WIDTH = 24


def bar(value: float, largest: float, width: int = CHART_WIDTH) -> str:
    """A horizontal bar of value/largest of `width` characters, in eighths of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def _money(value: float | None, currency: str | None) -> str:
    if value is None:
        return "mixed currencies"
    return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"


def campaign_table(con: duckdb.DuckDBPyConnection, start: date, end: date, limit: int = 15) -> str:
    """The window's campaigns by attributed (last-touch) value, as a Markdown table."""
    rows = con.execute(
        """
        SELECT campaign_id, sum(impressions), sum(people_reached), sum(last_touch_conversions),
               sum(linear_conversions),
               CASE WHEN count(DISTINCT currency) <= 1 AND count(*) = count(last_touch_value)
                    THEN sum(last_touch_value) END,
               CASE WHEN count(DISTINCT currency) <= 1 AND count(*) = count(linear_value)
                    THEN sum(linear_value) END,
               min(currency)
        FROM campaign_attribution WHERE day >= ? AND day < ?
        GROUP BY campaign_id ORDER BY 6 DESC NULLS LAST, 1 LIMIT ?
        """,
        [start, end, limit],
    ).fetchall()
    lines = [
        "| campaign | impressions | people reached¹ | conversions (last touch) "
        "| conversions (linear) | value (last touch) | value (linear) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for campaign, imps, reach, last, linear, v_last, v_linear, currency in rows:
        lines.append(
            f"| {campaign} | {int(imps):,} | {int(reach):,} | {float(last):,.0f} "
            f"| {float(linear):,.2f} | {_money(v_last, currency)} | {_money(v_linear, currency)} |"
        )
    if not rows:
        lines.append("| (no campaigns in these days) | | | | | | |")
    lines.append("")
    lines.append("¹ summed over days: a person reached on two days counts twice.")
    return "\n".join(lines)


def recent_days_chart(con: duckdb.DuckDBPyConnection, end: date, days: int = 14) -> str:
    """Attributed value and conversions per day for the `days` days before `end`, as bars."""
    rows: Sequence[tuple[date, int, float, float | None, str | None]] = con.execute(
        """
        SELECT day, sum(impressions), sum(last_touch_conversions),
               CASE WHEN count(DISTINCT currency) <= 1 AND count(*) = count(last_touch_value)
                    THEN sum(last_touch_value) END,
               min(currency)
        FROM campaign_attribution
        WHERE day < ? AND day >= CAST(? AS DATE) - CAST(? AS INTEGER)
        GROUP BY day ORDER BY day
        """,
        [end, end, days],
    ).fetchall()
    largest = max((float(r[3] or 0) for r in rows), default=0.0)
    lines = [
        f"Attributed value (last touch) per day, last {days} days",
        "",
        "| day | impressions | conversions | value | |",
        "|---|---:|---:|---:|:---|",
    ]
    for day, imps, conversions, value, currency in rows:
        drawn = bar(float(value or 0), largest)
        cell = f"`{drawn}`" if drawn else ""
        lines.append(
            f"| {day.isoformat()} | {int(imps):,} | {float(conversions):,.0f} "
            f"| {_money(value, currency)} | {cell} |"
        )
    if not rows:
        lines.append("| (no days yet) | | | | |")
    return "\n".join(lines)
