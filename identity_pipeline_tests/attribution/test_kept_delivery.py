"""One id lookup per run: attributed_conversions computes the campaign delivery from it and
keeps that, campaign_attribution of the same run reads it, on a real DuckDB file (the
generated engine world).

Kept or computed again, the outputs are row-for-row the same; another run's key never reads
it; a run's reach comes from the mapping tables as its first step saw them; the campaign step
drops it, and what earlier versions kept (the id lookup itself) goes with it.
"""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from identity_pipeline.attribution.compute import (
    KEPT_DELIVERY,
    KEPT_DELIVERY_PIN,
    RETIRED_TABLES,
    DayWindow,
    attribute_conversions,
    summarize_campaigns,
)
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.engine.generated import DAYS, FIRST_DAY, generate_world

WINDOW = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS))
LOOKBACK = 3


def outputs(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with connect(db) as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("attributed_conversions", "campaign_attribution")
        }


def kept_tables(db: Path) -> list[str]:
    with connect(db) as con:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND table_name IN "
            "(?, ?, ?, ?) ORDER BY 1",
            [KEPT_DELIVERY, KEPT_DELIVERY_PIN, *RETIRED_TABLES],
        ).fetchall()
    return [str(r[0]) for r in rows]


@pytest.fixture()
def world(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    generate_world(db)
    return db


def test_a_kept_delivery_gives_the_rows_of_a_fresh_one_and_is_dropped_after_use(
    world: Path,
) -> None:
    with connect(world) as con:
        fresh_stats = attribute_conversions(con, WINDOW, LOOKBACK)
        summarize_campaigns(con, WINDOW)
    fresh = outputs(world)
    assert fresh["attributed_conversions"] and fresh["campaign_attribution"]

    with connect(world) as con:
        kept_stats = attribute_conversions(con, WINDOW, LOOKBACK, keep_delivery_for="run-1")
    assert kept_tables(world) == [KEPT_DELIVERY, KEPT_DELIVERY_PIN]
    with connect(world) as con:  # the next step opens its own connection, as an asset does
        summarize_campaigns(con, WINDOW, run_key="run-1")
    assert outputs(world) == fresh
    # the same figures (float sums may differ in the last digit: summing order)
    assert replace(kept_stats, value=0, attributed_value=0) == replace(
        fresh_stats, value=0, attributed_value=0
    )
    assert kept_stats.attributed_value == pytest.approx(fresh_stats.attributed_value)
    assert kept_tables(world) == []


def test_only_the_same_run_reads_the_kept_delivery_as_its_first_step_saw_the_mapping(
    world: Path,
) -> None:
    with connect(world) as con:
        attribute_conversions(con, WINDOW, LOOKBACK, keep_delivery_for="run-1")
        # the mapping changes between the run's two steps: every identity is opted out
        con.execute("UPDATE uid2_mapping SET status = 'optout'")
        con.execute("UPDATE id5_mapping SET status = 'optout'")

    with connect(world) as con:  # another run computes its own: nobody is reached
        summarize_campaigns(con, WINDOW, run_key="run-2")
        reached = con.execute("SELECT sum(people_reached) FROM campaign_attribution").fetchone()
    assert reached == (0,)
    assert kept_tables(world) == [KEPT_DELIVERY, KEPT_DELIVERY_PIN]  # still run-1's

    with connect(world) as con:  # run-1's campaign step reads what run-1 kept
        summarize_campaigns(con, WINDOW, run_key="run-1")
        reached = con.execute("SELECT sum(people_reached) FROM campaign_attribution").fetchone()
    assert reached is not None and reached[0] > 0
    assert kept_tables(world) == []


def test_a_kept_delivery_for_other_days_is_not_read(world: Path) -> None:
    first_days = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=2))
    with connect(world) as con:
        attribute_conversions(con, first_days, 0, keep_delivery_for="run-1")
        con.execute("UPDATE uid2_mapping SET status = 'optout'")
        con.execute("UPDATE id5_mapping SET status = 'optout'")
        # the whole window is wider than the kept days: computed again, so no one
        summarize_campaigns(con, WINDOW, run_key="run-1")
        reached = con.execute("SELECT sum(people_reached) FROM campaign_attribution").fetchone()
    assert reached == (0,)
    assert kept_tables(world) == [KEPT_DELIVERY, KEPT_DELIVERY_PIN]


def test_what_an_earlier_version_kept_is_dropped(world: Path) -> None:
    with connect(world) as con:  # an id lookup kept by an earlier version, never read now
        for table in RETIRED_TABLES:
            con.execute(f"CREATE TABLE {table} AS SELECT 'uid2' AS id_type, 'x' AS id")
        attribute_conversions(con, WINDOW, LOOKBACK, keep_delivery_for="run-1")
    assert kept_tables(world) == [KEPT_DELIVERY, KEPT_DELIVERY_PIN]
