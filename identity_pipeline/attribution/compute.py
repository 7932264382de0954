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


def _kept_lookup_writes(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """Unordered and uncompressed writes within MEMORY_LIMIT, for the run's kept id lookup."""
    return settings(
        con,
        preserve_insertion_order=False,
        memory_limit=MEMORY_LIMIT,
        force_compression="uncompressed",
    )


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
"""What the select_*.sql files read: a temp table, or a temp view of the run's kept lookup."""
KEPT_LOOKUP = "attr_id_lookup_kept"
KEPT_LOOKUP_PIN = "attr_id_lookup_pin"
"""One row: which run kept KEPT_LOOKUP and for which impression days."""


def build_id_lookup(
    con: duckdb.DuckDBPyConnection, impression_days: DayWindow, *, keep_for: str | None = None
) -> int:
    """Temp table attr_id_lookup for the ids in those impression days; returns its size.

    With `keep_for` (a run id), the lookup is kept in the warehouse instead (one at a time, the
    latest run's), so a later step of the same run reads it (use_kept_lookup) rather than
    building it again; attr_id_lookup is then a temp view of it.
    """
    sql = select_sql(SQL_PACKAGE, "select_id_lookup.sql")
    params = {"impressions_from": impression_days.start, "impressions_to": impression_days.end}
    _drop_temp_lookup(con)
    if keep_for is None:
        with _unordered_writes(con):
            execute(con, f"CREATE TEMP TABLE {LOOKUP} AS {sql}", params)
    else:
        # Kept uncompressed: it lives for one run, and choosing a compression for ~50-byte
        # random ids took more time than the lookup saved by being kept.
        with _kept_lookup_writes(con), transaction(con):
            execute(con, f"CREATE OR REPLACE TABLE {KEPT_LOOKUP} AS {sql}", params)
            con.execute(
                f"CREATE OR REPLACE TABLE {KEPT_LOOKUP_PIN} AS SELECT CAST(? AS VARCHAR) AS "
                "run_key, CAST(? AS DATE) AS impressions_from, CAST(? AS DATE) AS impressions_to",
                [keep_for, impression_days.start, impression_days.end],
            )
        _view_kept_lookup(con)
    return _scalar(con, f"SELECT count(*) FROM {LOOKUP}", [])


def _drop_temp_lookup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop attr_id_lookup, whether a temp table or a temp view of the kept lookup."""
    kinds = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ? "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ?",
        [LOOKUP, LOOKUP],
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} temp.{LOOKUP}")


def _view_kept_lookup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TEMP VIEW {LOOKUP} AS SELECT id_type, id, dii_id, matched_via FROM {KEPT_LOOKUP}"
    )


def use_kept_lookup(
    con: duckdb.DuckDBPyConnection, run_key: str, impression_days: DayWindow
) -> bool:
    """Make attr_id_lookup the lookup `run_key` kept, if it covers those impression days.

    A lookup built for wider days gives the same rows to every join on ids of narrower days
    (each id's identity depends only on the mapping tables; the days only choose which ids are
    listed), so one lookup serves attributed_conversions (the lookback's days) and
    campaign_attribution (the run's days). It is the lookup as the run's first step read the
    mapping tables: one run credits and counts reach from one version of them, as a Spark run
    reads one snapshot.
    """
    if not (_has_table(con, KEPT_LOOKUP) and _has_table(con, KEPT_LOOKUP_PIN)):
        return False
    pin = con.execute(
        f"SELECT run_key, impressions_from, impressions_to FROM {KEPT_LOOKUP_PIN}"
    ).fetchall()
    if len(pin) != 1 or pin[0][0] != run_key:
        return False
    if not (pin[0][1] <= impression_days.start and impression_days.end <= pin[0][2]):
        return False
    _drop_temp_lookup(con)
    _view_kept_lookup(con)
    return True


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        _scalar(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [table],
        )
    )


def drop_id_lookup(con: duckdb.DuckDBPyConnection, *, kept: bool = False) -> None:
    """Drop attr_id_lookup, and with `kept` the run's kept lookup too."""
    _drop_temp_lookup(con)
    if kept:
        with transaction(con):
            con.execute(f"DROP TABLE IF EXISTS {KEPT_LOOKUP}")
            con.execute(f"DROP TABLE IF EXISTS {KEPT_LOOKUP_PIN}")


def attribute_conversions(
    con: duckdb.DuckDBPyConnection,
    window: DayWindow,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    *,
    keep_lookup_for: str | None = None,
) -> AttributionStats:
    """Replace attributed_conversions for the window's conversion days.

    With `keep_lookup_for` (the run id), the id lookup stays in the warehouse for the run's
    campaign_attribution step (summarize_campaigns with the same `run_key`).
    """
    if lookback_days < 0:
        raise ValueError("lookback_days cannot be negative")
    impression_days = window.widened(lookback_days)
    lookup_ids = build_id_lookup(con, impression_days, keep_for=keep_lookup_for)
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

    With `run_key`, the id lookup that run's attribute_conversions kept is read (and dropped
    after) when it covers the window; otherwise one is built for the window.
    """
    kept = run_key is not None and use_kept_lookup(con, run_key, window)
    if not kept:
        build_id_lookup(con, window)
    params = {"window_start": window.start, "window_end": window.end}
    with _unordered_writes(con):
        _replace_days(
            con, "campaign_attribution", "select_campaign_attribution.sql", window, params
        )
    drop_id_lookup(con, kept=kept)
    return _rows_in(con, "campaign_attribution", window)
