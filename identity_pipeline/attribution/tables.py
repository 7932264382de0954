"""The identity tables attribution reads, named once for both engines.

The identity list lives in identity_pipeline.engine.state, because the optouts, uid2, id5 and
identity-graph domains publish exactly these tables to the lake for the Spark engine after each
of their runs; here they are the attribution assets' deps.
"""

from identity_pipeline.engine.state import ATTRIBUTION_VIEWS, IDENTITY_TABLES

EVENT_TABLES = ("identity_events",)
"""Read through the purchase_events view only (purchases are conversions too): a dep on
DuckDB; Spark reads the view from the snapshot instead."""

__all__ = ["ATTRIBUTION_VIEWS", "EVENT_TABLES", "IDENTITY_TABLES"]
