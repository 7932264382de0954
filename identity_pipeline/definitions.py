"""Assembles the Dagster definitions: each domain's own, merged; no logic lives here.

Only `defs` is a Definitions object at module scope (Dagster loads the module and wants one),
so the domains come in as modules.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from identity_pipeline.attribution import definitions as attribution
from identity_pipeline.contacts import definitions as contacts
from identity_pipeline.customers import definitions as customers
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.events import definitions as events
from identity_pipeline.id5 import definitions as id5
from identity_pipeline.identity_graph import definitions as identity_graph
from identity_pipeline.operations import definitions as operations
from identity_pipeline.optouts import definitions as optouts
from identity_pipeline.privacy import definitions as privacy
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.service import definitions as service
from identity_pipeline.uid2 import definitions as uid2

defs = Definitions.merge(
    Definitions(
        resources={
            "warehouse": DuckDBWarehouse(),
            "landing": LandingArea(),
            # Idle unless $IDENTITY_PIPELINE_ENGINE=spark: its session starts on first use.
            "spark": SparkResource(),
        },
        # One process per run: DuckDB allows a single writing process per file.
        executor=in_process_executor,
    ),
    contacts.defs,
    optouts.defs,
    uid2.defs,
    id5.defs,
    attribution.defs,
    events.defs,
    identity_graph.defs,
    operations.defs,
    customers.defs,
    privacy.defs,
    service.defs,
)
