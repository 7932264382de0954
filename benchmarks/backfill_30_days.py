"""A 30-day attribution backfill over generated data, end to end, printing its figures.

    .venv/bin/python benchmarks/backfill_30_days.py [--rows 20000] [--days 30] [--dir DIR]
        [--impressions-per-day K]
    (the test suite's smoke run: --rows 500 --days 3 --impressions-per-day 1500)

generate --days (contacts, impressions, conversions) -> ingest_contacts job -> sandbox-true
stand-in mappings (until UID2/ID5 mapping merges) -> the attribution job over the whole range
as one run (what BackfillPolicy.single_run() makes a backfill launch) -> the same range again,
which must leave every table byte-for-byte identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def _fingerprint(db: Path) -> dict[str, str]:
    import duckdb

    tables = ("impressions", "conversions", "attributed_conversions", "campaign_attribution")
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            t: hashlib.sha256(
                repr(con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()).encode()
            ).hexdigest()[:16]
            for t in tables
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--impressions-per-day", type=int, help="default: generate's")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="backfill_"))
    os.environ["IDENTITY_PIPELINE_DB"] = str(root / "identity.duckdb")
    os.environ["IDENTITY_PIPELINE_LANDING"] = str(root / "landing")

    from dagster import DagsterInstance

    from identity_pipeline import cli, settings
    from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
    from identity_pipeline.definitions import defs
    from identity_pipeline.dev.sandbox_mapping import write_sandbox_mappings
    from identity_pipeline.reporting.charts import image_of
    from identity_pipeline.warehouse import connect

    now = settings.now()
    first = now.date() - timedelta(days=args.days)
    last = now.date() - timedelta(days=1)
    landing = str(root / "landing")
    generate = ["generate", "--rows", str(args.rows), "--out", landing, "--days", str(args.days)]
    if args.impressions_per_day:
        generate += ["--impressions-per-day", str(args.impressions_per_day)]
    cli.main(generate)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with DagsterInstance.ephemeral() as instance:
        contacts = defs.resolve_job_def("ingest_contacts").execute_in_process(
            instance=instance, run_config=quiet
        )
        assert contacts.success
        with connect(settings.database_path()) as con:
            counts = write_sandbox_mappings(con, now=now, history_from=first)
        print(f"stand-in mappings at {now:%Y-%m-%d %H:%M} UTC: {counts}")

        tags = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
        job = defs.resolve_job_def("attribution")
        started = time.perf_counter()
        result = job.execute_in_process(instance=instance, tags=tags, run_config=quiet)
        seconds = time.perf_counter() - started
        assert result.success
        print(f"\nbackfill {first}..{last}: 1 run ({result.run_id[:8]}), {seconds:.1f}s")
        events = result.get_asset_materialization_events()
        partitions: dict[str, int] = {}
        for event in events:
            name = event.asset_key.to_user_string()
            partitions[name] = partitions.get(name, 0) + 1
        reported: set[str] = set()
        for event in events:
            name = event.asset_key.to_user_string()
            if name in reported:
                continue  # one event per partition, all with the run's metadata
            reported.add(name)
            meta = {k: v.value for k, v in event.materialization.metadata.items()}
            shown = {
                k: meta[k]
                for k in (
                    "days",
                    "rows_in_run_days",
                    "files_loaded",
                    "rows_rejected",
                    "conversions",
                    "attributed_conversions",
                    "attribution_rate",
                    "touches_by_match",
                    "attributed_value_last_touch",
                    "seconds",
                )
                if k in meta
            }
            print(f"  {name:24} {partitions[name]} partitions materialized, {shown}")
            if name == "campaign_attribution":
                campaigns, chart = str(meta["campaigns"]), image_of(str(meta["value_by_campaign"]))
        expected = dict.fromkeys(
            ("conversions", "impressions", "attributed_conversions", "campaign_attribution"),
            args.days,
        )
        if partitions != expected:
            print(f"\nexpected one materialization per day and asset: {expected}")
            return 1
        before = _fingerprint(settings.database_path())
        started = time.perf_counter()
        again = job.execute_in_process(instance=instance, tags=tags, run_config=quiet)
        assert again.success
        same = _fingerprint(settings.database_path()) == before
        print(f"\nsame range again: {time.perf_counter() - started:.1f}s, tables identical: {same}")
        print(f"\ncampaign_attribution metadata 'campaigns':\n{campaigns}")
        chart_path = root / "value_by_campaign.png"
        chart_path.write_bytes(chart)
        print(
            f"\ncampaign_attribution metadata 'value_by_campaign': a {len(chart):,}-byte PNG, "
            f"saved as {chart_path}"
        )
    print(f"\ndata in {root}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
