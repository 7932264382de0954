"""Landing sensor: new or changed impressions/conversions files -> one ranged attribution run.

A late impressions file for day D changes the credit of conversions up to D + lookback, so the
run covers the files' days through D + lookback; a conversions file only its own days. The
sensor reads the files itself (an in-memory DuckDB), never the warehouse, so it cannot hold the
database lock. The cursor remembers each file's size, mtime and days; like every sensor's, the
watch (`landing.watch`) leaves a file still being written for the next tick.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dagster import (
    DailyPartitionsDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from identity_pipeline.attribution.ingest import file_days
from identity_pipeline.automation import sensor_status
from identity_pipeline.landing.watch import run_key, settled_files
from identity_pipeline.resources import LandingArea

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Dagster's tags for a run over a partition range (what a single-run backfill uses)."""


@dataclass(frozen=True)
class LandedFile:
    kind: str
    key: str
    path: Path
    stamp: str


def affected_days(
    impression_days: set[date],
    conversion_days: set[date],
    lookback_days: int,
    first_partition: date,
    last_partition: date,
) -> tuple[date, date] | None:
    """The inclusive day range to re-materialize, clipped to existing partitions."""
    starts = [min(s) for s in (impression_days, conversion_days) if s]
    ends = [max(s) for s in (conversion_days,) if s]
    if impression_days:
        ends.append(max(impression_days) + timedelta(days=lookback_days))
    if not starts:
        return None
    first, last = max(min(starts), first_partition), min(max(ends), last_partition)
    return (first, last) if first <= last else None


def _changed_files(landing: LandingArea, cursor: dict[str, dict[str, Any]]) -> list[LandedFile]:
    found = []
    for kind, directory in (
        ("impressions", landing.impressions_dir),
        ("conversions", landing.conversions_dir),
    ):
        for file in settled_files(directory):
            key = f"{kind}/{file.rel}"
            previous = cursor.get(key)
            if previous is None or previous.get("stamp") != file.stamp:
                found.append(LandedFile(kind, key, file.path, file.stamp))
    return found


def _last_partition(partitions: DailyPartitionsDefinition) -> date | None:
    key = partitions.get_last_partition_key()
    return date.fromisoformat(key) if key else None


def build_landing_sensor(
    job_name: str,
    partitions: DailyPartitionsDefinition,
    lookback_days: int,
) -> SensorDefinition:
    first_partition = partitions.start.date()

    @sensor(
        name="attribution_landing_sensor",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=sensor_status(),
        description="Runs the attribution job over the days that new, changed or late "
        "impressions/conversions files touch (impression days plus the lookback).",
    )
    def attribution_landing_sensor(
        context: SensorEvaluationContext, landing: LandingArea
    ) -> SensorResult:
        cursor: dict[str, dict[str, Any]] = json.loads(context.cursor or "{}")
        changed = _changed_files(landing, cursor)
        if not changed:
            return SensorResult(
                skip_reason="no new or changed landing files", cursor=context.cursor
            )
        days: dict[str, set[date]] = {"impressions": set(), "conversions": set()}
        for file in changed:
            now_days = file_days(file.path)
            before = {date.fromisoformat(d) for d in cursor.get(file.key, {}).get("days", [])}
            days[file.kind] |= now_days | before
            cursor[file.key] = {
                "stamp": file.stamp,
                "days": sorted(d.isoformat() for d in now_days),
            }
        last_partition = _last_partition(partitions)
        span = (
            affected_days(
                days["impressions"],
                days["conversions"],
                lookback_days,
                first_partition,
                last_partition,
            )
            if last_partition
            else None
        )
        new_cursor = json.dumps(cursor, sort_keys=True)
        if span is None:
            return SensorResult(
                skip_reason=f"{len(changed)} changed file(s), none with days in the partitions",
                cursor=new_cursor,
            )
        first, last = span
        context.log.info(
            f"{len(changed)} new or changed landing file(s): attribution for {first}..{last}"
        )
        request = RunRequest(
            run_key=run_key(f"landing:{first}:{last}", new_cursor),
            tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
        )
        return SensorResult(run_requests=[request], cursor=new_cursor)

    return attribution_landing_sensor
