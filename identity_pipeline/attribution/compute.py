"""Rebuilding day ranges of the attribution tables; plain DuckDB, no Dagster.

The attribution logic itself is the portable SELECTs in sql/select_*.sql. This module only
wraps them for DuckDB: a temp table for the id lookup, and DELETE + INSERT of a day range in
one transaction, so re-running any range replaces it atomically and gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from identity_pipeline.warehouse import Params, execute, select_sql, transaction

SQL_PACKAGE = "identity_pipeline.attribution"
DEFAULT_LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class DayWindow:
    """UTC days [start, end): one partition or a backfill's whole range."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty day window {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def widened(self, lookback_days: int) -> DayWindow:
        """The impression days a conversion in this window can be credited to."""
        return DayWindow(self.start - timedelta(days=lookback_days), self.end)


@dataclass(frozen=True)
class AttributionStats:
    conversions: int
    attributed_conversions: int
    touches: int
    value: float
    attributed_value: float
    touches_by_match: dict[str, int]
    lookup_ids: int
    touches_through_person: int = 0
    """Touches of identities the conversion reached only through its person in the graph."""
    purchase_events: int = 0
    """Of `conversions`, those that are purchase events of the identity graph."""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _setting_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def _engine_settings(con: duckdb.DuckDBPyConnection, **settings: object) -> Iterator[None]:
    """DuckDB settings for the statements inside; the connection's own come back after."""
    before = {}
    for name in settings:
        row = con.execute("SELECT current_setting(?)", [name]).fetchone()
        before[name] = row[0] if row else None
    try:
        for name, value in settings.items():
            con.execute(f"SET {name} = {_setting_literal(value)}")
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = {_setting_literal(value)}")


def _unordered_writes(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """Let DuckDB write a statement's rows in any order (the tables have no order; every
    reader sorts), which keeps its threads from buffering rows to restore the scan order."""
    return _engine_settings(con, preserve_insertion_order=False)


def _replace_days(
    con: duckdb.DuckDBPyConnection, table: str, select: str, window: DayWindow, params: Params
) -> None:
    """DELETE the window's days from `table` and INSERT what select_*.sql `select` returns,
    in one transaction: re-running any range replaces it atomically."""
    sql = select_sql(SQL_PACKAGE, select)
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE day >= ? AND day < ?", [window.start, window.end])
        execute(con, f"INSERT INTO {table} BY NAME {sql}", params)


def _rows_in(con: duckdb.DuckDBPyConnection, table: str, window: DayWindow) -> int:
    return _scalar(
        con, f"SELECT count(*) FROM {table} WHERE day >= ? AND day < ?", [window.start, window.end]
    )


def replace_landed_days(con: duckdb.DuckDBPyConnection, kind: str, window: DayWindow) -> int:
    """Rebuild `impressions` or `conversions` for the window; returns its row count."""
    if kind not in ("impressions", "conversions"):
        raise ValueError(f"unknown kind {kind!r}")
    params = {"window_start": window.start, "window_end": window.end}
    _replace_days(con, kind, f"select_{kind}.sql", window, params)
    return _rows_in(con, kind, window)


def build_id_lookup(con: duckdb.DuckDBPyConnection, impression_days: DayWindow) -> int:
    """Temp table attr_id_lookup for the ids in those impression days; returns its size."""
    sql = select_sql(SQL_PACKAGE, "select_id_lookup.sql")
    params = {"impressions_from": impression_days.start, "impressions_to": impression_days.end}
    with _unordered_writes(con):
        execute(con, f"CREATE OR REPLACE TEMP TABLE attr_id_lookup AS {sql}", params)
    return _scalar(con, "SELECT count(*) FROM attr_id_lookup", [])


def attribute_conversions(
    con: duckdb.DuckDBPyConnection,
    window: DayWindow,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> AttributionStats:
    """Replace attributed_conversions for the window's conversion days."""
    if lookback_days < 0:
        raise ValueError("lookback_days cannot be negative")
    impression_days = window.widened(lookback_days)
    lookup_ids = build_id_lookup(con, impression_days)
    params = {
        "window_start": window.start,
        "window_end": window.end,
        "impressions_from": impression_days.start,
        "lookback_days": lookback_days,
    }
    with _unordered_writes(con):
        _replace_days(
            con, "attributed_conversions", "select_attributed_conversions.sql", window, params
        )
    con.execute("DROP TABLE IF EXISTS attr_id_lookup")
    return attribution_stats(con, window, lookup_ids)


def attribution_stats(
    con: duckdb.DuckDBPyConnection, window: DayWindow, lookup_ids: int
) -> AttributionStats:
    """The window's figures from conversions and attributed_conversions (either engine's)."""
    span = [window.start, window.end]
    totals = con.execute(
        "WITH landed AS (SELECT conversion_id, value FROM conversions "
        "WHERE day >= ? AND day < ?), "
        "purchases AS (SELECT event_id, value FROM purchase_events WHERE day >= ? AND day < ? "
        "AND event_id NOT IN (SELECT conversion_id FROM landed)) "
        "SELECT (SELECT count(*) FROM landed) + (SELECT count(*) FROM purchases), "
        "coalesce((SELECT sum(value) FROM landed), 0) "
        "+ coalesce((SELECT sum(value) FROM purchases), 0), "
        "(SELECT count(*) FROM purchases)",
        span * 2,
    ).fetchall()[0]
    credited = con.execute(
        "SELECT count(DISTINCT (day, conversion_id)), count(*), "
        "coalesce(sum(last_touch_value), 0), count(*) FILTER (WHERE credited_through = 'person') "
        "FROM attributed_conversions WHERE day >= ? AND day < ?",
        span,
    ).fetchall()[0]
    by_match = con.execute(
        "SELECT matched_via, count(*) FROM attributed_conversions WHERE day >= ? AND day < ? "
        "GROUP BY 1 ORDER BY 1",
        span,
    ).fetchall()
    return AttributionStats(
        conversions=int(totals[0]),
        attributed_conversions=int(credited[0]),
        touches=int(credited[1]),
        value=float(totals[1]),
        attributed_value=float(credited[2]),
        touches_by_match={str(k): int(v) for k, v in by_match},
        lookup_ids=lookup_ids,
        touches_through_person=int(credited[3]),
        purchase_events=int(totals[2]),
    )


def summarize_campaigns(con: duckdb.DuckDBPyConnection, window: DayWindow) -> int:
    """Replace campaign_attribution for the window; returns its row count."""
    build_id_lookup(con, window)
    params = {"window_start": window.start, "window_end": window.end}
    with _unordered_writes(con):
        _replace_days(
            con, "campaign_attribution", "select_campaign_attribution.sql", window, params
        )
    con.execute("DROP TABLE IF EXISTS attr_id_lookup")
    return _rows_in(con, "campaign_attribution", window)
