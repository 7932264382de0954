"""The identity tables attribution reads, named once for both engines."""

IDENTITY_TABLES = (
    "dii",
    "customer_dii",
    "uid2_mapping",
    "id5_mapping",
    "id5_uid_history",
    "optouts",
    "identity_graph",
)
"""Unpartitioned identity, mapping and identity-graph tables the lookup and the person
resolution read: the attribution assets' deps on DuckDB, and (with ATTRIBUTION_VIEWS) the
tables a Spark run reads from one snapshot."""

EVENT_TABLES = ("identity_events",)
"""Read through the purchase_events view only (purchases are conversions too): a dep on
DuckDB; Spark reads the view from the snapshot instead."""

ATTRIBUTION_VIEWS = ("opted_out", "person_dii", "purchase_events")
"""Views the attribution SQL reads (optouts/ and attribution/sql/create_views.sql); a snapshot
copies each as DuckDB computes it, so Spark applies the one definition of each."""
