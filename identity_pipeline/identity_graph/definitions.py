"""The identity graph's Dagster definitions: its assets, the `identity_graph_refresh` job over
the whole `identity_graph` group, the landing events/ sensor and the daily schedule."""

from dagster import AssetSelection, ScheduleDefinition

from identity_pipeline import settings
from identity_pipeline.automation import schedule_status
from identity_pipeline.domain import domain_definitions
from identity_pipeline.identity_graph.assets import GROUP, identity_graph, person_journal, persons
from identity_pipeline.landing.readers import EVENT_SUFFIXES
from identity_pipeline.landing.sensors import landing_folder_sensor

JOB = "identity_graph_refresh"
"""The job over the whole identity_graph group (events, graph, persons, scoring, snapshot)."""

event_files_sensor = landing_folder_sensor(
    "event",
    "events",
    JOB,
    "New or changed files in landing events/ (.jsonl, .jsonl.gz, .parquet; left alone until "
    "unmodified for the landing watch's settle time) → one identity_graph_refresh run.",
    suffixes=EVENT_SUFFIXES,
)

daily_identity_graph_schedule = ScheduleDefinition(
    name="daily_identity_graph",
    job_name=JOB,
    cron_schedule=f"0 {(settings.refresh_hour_utc() + 23) % 24} * * *",
    execution_timezone="UTC",
    default_status=schedule_status(),
    description="Every day an hour before daily_refresh (default 01:00 UTC): "
    "identity_graph_refresh, so new CRM links and any events the sensor missed reach the "
    "graph before the day's mapping and attribution.",
)

defs = domain_definitions(
    job=JOB,
    job_description="Ingest every landed event file not ingested yet, stitch the new events and "
    "CRM links into the identity graph, and bring everything built on it up to date.",
    assets=[identity_graph, persons, person_journal],
    selection=AssetSelection.groups(GROUP),
    sensors=[event_files_sensor],
    schedules=[daily_identity_graph_schedule],
)
