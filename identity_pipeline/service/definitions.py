"""The identity service's Dagster definitions: the snapshot it serves from (the job that
runs it, identity_graph_refresh, selects the whole identity_graph group)."""

from dagster import Definitions

from identity_pipeline.service.assets import identity_service_snapshot

defs = Definitions(assets=[identity_service_snapshot])
