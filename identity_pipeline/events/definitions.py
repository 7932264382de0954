"""The events domain's Dagster definitions: the `identity_events` asset.

The job `identity_graph_refresh`, the events sensor and the schedule belong to identity_graph/.
"""

from dagster import Definitions

from identity_pipeline.events.assets import identity_events

defs = Definitions(assets=[identity_events])
