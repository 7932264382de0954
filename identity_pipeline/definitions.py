"""Assembles the Dagster definitions: each domain's own, merged; no logic lives here."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from identity_pipeline.attribution.definitions import defs as attribution
from identity_pipeline.contacts.definitions import defs as contacts
from identity_pipeline.id5.definitions import defs as id5
from identity_pipeline.operations.definitions import defs as operations
from identity_pipeline.optouts.definitions import defs as optouts
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.uid2.definitions import defs as uid2

shared = Definitions(
    resources={"warehouse": DuckDBWarehouse(), "landing": LandingArea()},
    # One process per run: DuckDB allows a single writing process per file.
    executor=in_process_executor,
)

defs = Definitions.merge(shared, contacts, optouts, uid2, id5, attribution, operations)
