"""Rebuilding day ranges of the attribution tables; plain DuckDB, no Dagster.

The attribution logic itself is the portable SELECTs in sql/select_*.sql. This module only
wraps them for DuckDB: a temp table for the id lookup, and DELETE + INSERT of a day range in
one transaction, so re-running any range replaces it atomically and gives the same rows.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from identity_pipeline.warehouse import Params, execute, select_sql, settings, transaction

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


MEMORY_LIMIT = "1.5GB"
"""DuckDB's memory for the attribution statements: past it, joins and aggregates spill to
disk, so 10M impressions attribute within 2 GB of RSS (README "Attribution")."""


def _unordered_writes(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """Let DuckDB write a statement's rows in any order (the tables have no order; every
    reader sorts), which keeps its threads from buffering rows to restore the scan order;
    within MEMORY_LIMIT."""
    return settings(con, preserve_insertion_order=False, memory_limit=MEMORY_LIMIT)


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


LOOKUP = "attr_id_lookup"
"""The id lookup the select_*.sql files read: a temp table, one statement's input at a time."""
DELIVERY = "campaign_delivery"
"""What select_campaign_attribution.sql reads: a temp table, or a temp view of the kept rows."""
KEPT_DELIVERY = "attr_campaign_delivery_kept"
KEPT_DELIVERY_PIN = "attr_campaign_delivery_pin"
"""One row: which run kept KEPT_DELIVERY and for which days."""
RETIRED_TABLES = ("attr_id_lookup_kept", "attr_id_lookup_pin")
"""What earlier versions kept between a run's steps (ids with their identities): dropped."""


def build_id_lookup(con: duckdb.DuckDBPyConnection, impression_days: DayWindow) -> int:
    """Temp table attr_id_lookup for the ids in those impression days; returns its size."""
    sql = select_sql(SQL_PACKAGE, "select_id_lookup.sql")
    params = {"impressions_from": impression_days.start, "impressions_to": impression_days.end}
    drop_id_lookup(con)
    with _unordered_writes(con):
        execute(con, f"CREATE TEMP TABLE {LOOKUP} AS {sql}", params)
    return _scalar(con, f"SELECT count(*) FROM {LOOKUP}", [])


def drop_id_lookup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS temp.{LOOKUP}")


def _delivery_sql(window: DayWindow) -> tuple[str, Params]:
    return select_sql(SQL_PACKAGE, "select_campaign_delivery.sql"), {
        "window_start": window.start,
        "window_end": window.end,
    }


def keep_delivery(con: duckdb.DuckDBPyConnection, run_key: str, window: DayWindow) -> None:
    """Keep the window's campaign delivery (select_campaign_delivery.sql, over the id lookup
    in place) in the warehouse for campaign_attribution of run `run_key`.

    A run's campaign step then reads a few rows per campaign-day instead of joining every
    impression to an id lookup again, and its reach comes from the lookup its first step
    built: one run's credits and reach come from one version of the mapping tables, as a
    Spark run reads one snapshot. Only the latest run's rows are kept.
    """
    sql, params = _delivery_sql(window)
    with _unordered_writes(con), transaction(con):
        for table in RETIRED_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        execute(con, f"CREATE OR REPLACE TABLE {KEPT_DELIVERY} AS {sql}", params)
        con.execute(
            f"CREATE OR REPLACE TABLE {KEPT_DELIVERY_PIN} AS SELECT CAST(? AS VARCHAR) AS "
            "run_key, CAST(? AS DATE) AS days_from, CAST(? AS DATE) AS days_to",
            [run_key, window.start, window.end],
        )


def _use_kept_delivery(con: duckdb.DuckDBPyConnection, run_key: str, window: DayWindow) -> bool:
    """Make campaign_delivery the rows run `run_key` kept, if they cover the window's days."""
    if not (_has_table(con, KEPT_DELIVERY) and _has_table(con, KEPT_DELIVERY_PIN)):
        return False
    pin = con.execute(f"SELECT run_key, days_from, days_to FROM {KEPT_DELIVERY_PIN}").fetchall()
    if len(pin) != 1 or pin[0][0] != run_key:
        return False
    if not (pin[0][1] <= window.start and window.end <= pin[0][2]):
        return False
    con.execute(f"CREATE OR REPLACE TEMP VIEW {DELIVERY} AS SELECT * FROM {KEPT_DELIVERY}")
    return True


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        _scalar(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [table],
        )
    )


def drop_kept_delivery(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the kept campaign delivery (keep_delivery already dropped the RETIRED_TABLES)."""
    with transaction(con):
        for table in (KEPT_DELIVERY, KEPT_DELIVERY_PIN):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def attribute_conversions(
    con: duckdb.DuckDBPyConnection,
    window: DayWindow,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    *,
    keep_delivery_for: str | None = None,
) -> AttributionStats:
    """Replace attributed_conversions for the window's conversion days.

    With `keep_delivery_for` (the run id), the window's campaign delivery is computed from the
    same id lookup and kept for the run's campaign_attribution step (summarize_campaigns with
    the same `run_key`).
    """
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
    try:
        with _unordered_writes(con):
            _replace_days(
                con, "attributed_conversions", "select_attributed_conversions.sql", window, params
            )
        if keep_delivery_for is not None:
            keep_delivery(con, keep_delivery_for, window)
    finally:
        drop_id_lookup(con)
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


def summarize_campaigns(
    con: duckdb.DuckDBPyConnection, window: DayWindow, *, run_key: str | None = None
) -> int:
    """Replace campaign_attribution for the window; returns its row count.

    With `run_key`, the campaign delivery that run's attribute_conversions kept is read (and
    dropped after) when it covers the window; otherwise it is computed from an id lookup
    built for the window.
    """
    kept = run_key is not None and _use_kept_delivery(con, run_key, window)
    if not kept:
        build_id_lookup(con, window)
        sql, params = _delivery_sql(window)
        try:
            with _unordered_writes(con):
                execute(con, f"CREATE OR REPLACE TEMP TABLE {DELIVERY} AS {sql}", params)
        finally:
            drop_id_lookup(con)
    params = {"window_start": window.start, "window_end": window.end}
    try:
        with _unordered_writes(con):
            _replace_days(
                con, "campaign_attribution", "select_campaign_attribution.sql", window, params
            )
    finally:
        con.execute(f"DROP {'VIEW' if kept else 'TABLE'} IF EXISTS temp.{DELIVERY}")
    if kept:
        drop_kept_delivery(con)
    return _rows_in(con, "campaign_attribution", window)
