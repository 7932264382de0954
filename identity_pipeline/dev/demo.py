"""`identity-pipeline demo`: sample data through the real Dagster jobs, then a summary.

generate (contacts, web/app events in landing/events/ and 30 days of impressions/conversions)
-> ingest_contacts -> uid2_refresh -> id5_refresh -> identity_graph_refresh (events ingested,
stitched with the CRM into persons) -> attribution over the generated days, as one ranged
run. Without UID2 or ID5 credentials in the environment the demo starts the matching local
sandbox on 127.0.0.1.

Without UID2 credentials in the environment the demo starts the local UID2 sandbox on
127.0.0.1 and points the run at it; with credentials it uses them.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

from identity_pipeline import settings
from identity_pipeline.dagster_instance import use_project_instance
from identity_pipeline.progress import step_progress

EVENTS_PER_CONTACT = 5
"""The demo generates this many web/app events per sample contact."""


def _jobs() -> list[tuple[str, str]]:
    return [
        ("ingest_contacts", "raw_contacts -> dii"),
        ("uid2_refresh", "optouts -> uid2_due_for_refresh -> uid2_mapping"),
        ("id5_refresh", "id5_due_for_refresh -> id5_mapping, id5_uid_history"),
        (
            "identity_graph_refresh",
            "identity_events -> identity_graph -> persons, journal -> customer scores",
        ),
    ]


def run_demo(rows: int, seed: int, days: int) -> int:
    from datetime import timedelta

    from dagster import DagsterInstance
    from rich.console import Console

    from identity_pipeline.attribution.sensors import RANGE_END_TAG, RANGE_START_TAG
    from identity_pipeline.definitions import defs
    from identity_pipeline.dev.currency_rates import write_sample_rates
    from identity_pipeline.dev.events import generate_events
    from identity_pipeline.dev.generate_activity import generate_activity
    from identity_pipeline.dev.generate_contacts import generate_contacts
    from identity_pipeline.dev.services import id5_service, uid2_service

    started = time.perf_counter()
    console = Console()
    landing = settings.landing_path()
    now = settings.now()
    first, last = now.date() - timedelta(days=days), now.date() - timedelta(days=1)
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    events = rows * EVENTS_PER_CONTACT
    steps = [
        ("generate", f"{rows:,} contacts, {events:,} events and {days} days of ad activity"),
        *_jobs(),
    ]
    steps.append(("attribution", f"impressions -> campaign_attribution, {first}..{last}"))
    with ExitStack() as stack:
        home = use_project_instance()  # the instance `identity-pipeline ui` shows
        instance = stack.enter_context(DagsterInstance.get())
        console.print(f"using Dagster instance {home}", soft_wrap=True)
        console.print(f"using {stack.enter_context(uid2_service())}", soft_wrap=True)
        console.print(f"using {stack.enter_context(id5_service())}", soft_wrap=True)
        progress = stack.enter_context(step_progress(console))
        task = progress.add_task("demo", total=len(steps))
        for name, what in steps:
            progress.update(task, description=f"{name}: {what}")
            if name == "generate":
                generate_contacts(rows, landing, seed=seed)
                generate_events(events, landing, seed=seed, contacts_rows=rows, contacts_seed=seed)
                write_sample_rates(landing)  # the generator's EUR and GBP in USD
                generate_activity(
                    landing,
                    contacts_rows=rows,
                    contacts_seed=seed,
                    days=days,
                    start=first,
                    now=now,
                    seed=seed,
                )
            else:
                tags = (
                    {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
                    if name == "attribution"
                    else None
                )
                result = defs.resolve_job_def(name).execute_in_process(
                    instance=instance, run_config=run_config, tags=tags, raise_on_error=False
                )
                if not result.success:
                    progress.stop()
                    console.print(f"[red]{name} failed; see the log above[/red]")
                    return 1
            progress.advance(task)
    _print_summary(console)
    console.print(
        f"demo finished in {time.perf_counter() - started:.1f} s; see its runs and assets "
        "in the Dagster UI: identity-pipeline ui",
        soft_wrap=True,
    )
    return 0


def _print_summary(console: Any) -> None:
    from rich.table import Table

    from identity_pipeline.customers.scoring import SEGMENTS
    from identity_pipeline.warehouse import connect

    database = settings.database_path()
    with connect(database) as con:

        def one(sql: str) -> int:
            return int(con.execute(sql).fetchall()[0][0] or 0)

        identities = dict(con.execute("SELECT dii_type, count(*) FROM dii GROUP BY 1").fetchall())
        uid2 = dict(con.execute("SELECT status, count(*) FROM uid2_mapping GROUP BY 1").fetchall())
        segments = dict(
            con.execute("SELECT segment, count(*) FROM customer_segments GROUP BY 1").fetchall()
        )
        rejects = con.execute(
            "SELECT reason, count(*) FROM dii_rejects GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        figures = [
            ("raw contact rows", one("SELECT count(*) FROM raw_contacts")),
            ("identities (email)", identities.get("email", 0)),
            ("identities (phone)", identities.get("phone", 0)),
            ("customer links", one("SELECT count(*) FROM customer_dii")),
            *((f"rejected: {reason}", count) for reason, count in rejects),
            (
                "files that failed to load",
                one("SELECT count(*) FROM contact_files WHERE status = 'failed'"),
            ),
            ("UID2 mapped", uid2.get("mapped", 0)),
            (
                "UID2 mapped, with a previous UID2",
                one("SELECT count(*) FROM uid2_mapping WHERE previous_uid IS NOT NULL"),
            ),
            ("UID2 invalid", uid2.get("invalid", 0)),
            (
                "ID5 mapped (emails)",
                one("SELECT count(*) FROM id5_mapping WHERE status = 'mapped'"),
            ),
            ("ID5 IDs kept in history", one("SELECT count(*) FROM id5_uid_history")),
            ("opted out (all sources)", one("SELECT count(*) FROM optouts")),
            ("impressions", one("SELECT count(*) FROM impressions")),
            ("events", one("SELECT count(*) FROM identity_events")),
            ("persons", one("SELECT count(*) FROM persons")),
            (
                "persons on several devices",
                one("SELECT count(*) FROM persons WHERE anonymous_ids > 1"),
            ),
            (
                "persons linked to a CRM customer",
                one("SELECT count(*) FROM persons WHERE len(customer_ids) > 0"),
            ),
            ("hubs (identifiers that link nobody)", one("SELECT count(*) FROM identity_hubs")),
            *((f"persons in segment {name}", segments.get(name, 0)) for name in SEGMENTS),
            ("conversions", one("SELECT count(*) FROM conversions")),
            (
                "attributed conversions",
                one("SELECT count(DISTINCT conversion_id) FROM attributed_conversions"),
            ),
        ]
        campaigns = con.execute(
            """
            SELECT campaign_id, sum(impressions), sum(people_reached),
                   sum(last_touch_conversions), sum(last_touch_value), any_value(currency)
            FROM campaign_attribution GROUP BY 1 ORDER BY 5 DESC NULLS LAST
            """
        ).fetchall()
    table = Table(title=f"identity_pipeline demo — {database}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in figures:
        table.add_row(label, f"{value:,}")
    console.print(table)
    per_campaign = Table(title="attribution per campaign (last touch)")
    for column in ("campaign", "impressions", "people reached", "conversions", "value"):
        per_campaign.add_column(column, justify="left" if column == "campaign" else "right")
    for campaign, impressions, reached, conversions, value, currency in campaigns:
        shown = f"{value:,.2f} {currency or ''}".strip() if value is not None else "mixed"
        per_campaign.add_row(
            str(campaign), f"{impressions:,}", f"{reached:,}", f"{conversions:,}", shown
        )
    console.print(per_campaign)
