"""Landed files: bad rows and bad files are reported without their values; Parquet works;
campaign_attribution metadata: a narrow Markdown table, a PNG chart and each day's figures."""

import base64
from datetime import datetime

import duckdb
import pytest
from dagster import DagsterInstance, FloatMetadataValue, IntMetadataValue

from identity_pipeline.attribution.report import INLINE_MARKDOWN_LIMIT
from identity_pipeline.reporting.charts import PNG_SIGNATURE
from identity_pipeline_tests.attribution.conftest import World, run_days

pytestmark = pytest.mark.integration


def metadata(result, key: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == key:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of {key}")


def test_bad_rows_and_files_are_rejected_by_reason_only(world: World, instance: DagsterInstance):
    world.person("max", uid2="U-max")
    good = {
        "impression_id": "ok",
        "ts": "2025-03-03 10:00:00",
        "campaign_id": "k",
        "id_type": "uid2",
        "id": "U-max",
        "cost": "0.5",
    }
    world.land(
        "impressions",
        "mixed.csv",
        [
            good,
            {**good, "impression_id": "no-id", "id": ""},
            {**good, "impression_id": "maid", "id_type": "maid"},
            {**good, "impression_id": "bad-ts", "ts": "yesterday-ish"},
            {**good, "impression_id": "neg", "cost": "-1"},
            {**good, "impression_id": "nan", "cost": "lots"},
        ],
    )
    secret_hash = "not-a-hash-but-looks-private"
    world.land(
        "conversions",
        "mixed.csv",
        [
            {
                "conversion_id": "c1",
                "ts": "2025-03-03 12:00:00",
                "customer_id": "C-max",
                "value": "3",
                "currency": "USD",
            },
            {
                "conversion_id": "c2",
                "ts": "2025-03-03 12:00:00",
                "uid2_hash": secret_hash,
                "value": "3",
                "currency": "USD",
            },
            {"conversion_id": "c3", "ts": "2025-03-03 12:00:00", "value": "3", "currency": "USD"},
            {
                "conversion_id": "c4",
                "ts": "2025-03-03 12:00:00",
                "customer_id": "C-max",
                "value": "3",
                "currency": "dollars",
            },
        ],
    )
    broken = world.root / "landing" / "conversions" / "broken.csv"
    broken.write_text("conversion_id;ts;value\nx;2025-03-03;1\n", encoding="utf-8")

    result = run_days(instance, "2025-03-03", "2025-03-03")

    rejects = world.query(
        "SELECT kind, source_file, row_number, field, reason FROM attribution_rejects ORDER BY ALL"
    )
    assert rejects == [
        ("conversions", "mixed.csv", 2, "uid2_hash", "not_a_base64_sha256"),
        ("conversions", "mixed.csv", 3, "customer_id", "no_customer_id_or_uid2_hash"),
        ("conversions", "mixed.csv", 4, "currency", "not_iso_4217"),
        ("impressions", "mixed.csv", 2, "id", "missing"),
        ("impressions", "mixed.csv", 3, "id_type", "unknown_id_type"),
        ("impressions", "mixed.csv", 4, "ts", "not_a_timestamp"),
        ("impressions", "mixed.csv", 5, "cost", "negative"),
        ("impressions", "mixed.csv", 6, "cost", "not_a_number"),
    ]
    assert world.query("SELECT impression_id FROM impressions") == [("ok",)]
    assert world.query("SELECT conversion_id FROM conversions") == [("c1",)]
    files = world.query("SELECT kind, file_path, status, error FROM attribution_files ORDER BY ALL")
    assert files[0][:3] == ("conversions", "broken.csv", "failed")
    assert "semicolon-delimited" in files[0][3]
    conversions_meta = metadata(result, "conversions")
    assert conversions_meta["files_failed"] == 1
    assert "broken.csv" in conversions_meta["failed_files"]
    assert conversions_meta["rows_rejected"] == 3
    every_value = " ".join(
        str(m)
        for r in result.get_asset_materialization_events()
        for m in r.materialization.metadata.values()
    )
    assert secret_hash not in every_value and "U-max" not in every_value


def test_parquet_files_and_campaign_metadata(world: World, instance: DagsterInstance):
    world.person("ned", uid2="U-ned")
    path = world.root / "landing" / "impressions" / "day.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 'p' || i AS impression_id, TIMESTAMP '2025-03-04 10:00:00' "
            "+ i * INTERVAL 1 MINUTE AS ts, 'camp-' || (i % 2) AS campaign_id, 'uid2' AS id_type, "
            "'U-ned' AS id, 0.01 AS cost FROM range(4) t(i)) TO ? (FORMAT parquet)",
            [str(path)],
        )
    world.land(
        "conversions",
        "d.csv",
        [
            {
                "conversion_id": f"c{d}",
                "ts": f"2025-03-0{d} 23:00:00",
                "customer_id": "C-ned",
                "value": str(10 * d),
                "currency": "USD",
            }
            for d in (4, 5, 6)
        ],
    )
    result = run_days(instance, "2025-03-04", "2025-03-06")

    assert world.query("SELECT count(*), min(ts) FROM impressions") == [
        (4, datetime(2025, 3, 4, 10, 0))
    ]
    meta = metadata(result, "campaign_attribution")
    table, chart = meta["campaigns"], meta["value_by_campaign"]
    # p3 (camp-1, 10:03) is the last touch for all three conversions: 40 + 50 + 60.
    assert "| camp-1 | 2 | 3 | 150.00 |" in table
    assert "| camp-0 | 2 | 0 | 0.00 |" in table
    assert "| campaign | impr. | conv. | value (USD) |" in table
    assert len(table) < INLINE_MARKDOWN_LIMIT  # shown in place, not behind "[Show Markdown]"
    png = base64.b64decode(chart.split("data:image/png;base64,", 1)[1].rstrip(")"))
    assert png.startswith(PNG_SIGNATURE) and len(png) > 2_000

    # Every day (partition) carries its own figures, as numbers the Plots tab can draw.
    by_day = {
        event.partition: event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "campaign_attribution"
    }
    assert sorted(by_day) == ["2025-03-04", "2025-03-05", "2025-03-06"]
    values = {day: m["attributed_value_last_touch"] for day, m in by_day.items()}
    assert values == {
        "2025-03-04": FloatMetadataValue(40.0),
        "2025-03-05": FloatMetadataValue(50.0),
        "2025-03-06": FloatMetadataValue(60.0),
    }
    assert by_day["2025-03-04"]["impressions"] == IntMetadataValue(4)
    assert by_day["2025-03-06"]["impressions"] == IntMetadataValue(0)
    assert by_day["2025-03-04"]["dagster/partition_row_count"] == IntMetadataValue(2)
    assert by_day["2025-03-06"]["days"] == IntMetadataValue(3)  # the run's window, on each day
