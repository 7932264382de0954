"""The identity tables attribution reads, named once for both engines."""

IDENTITY_TABLES = (
    "dii",
    "customer_dii",
    "uid2_mapping",
    "id5_mapping",
    "id5_uid_history",
    "optouts",
)
"""Unpartitioned identity and mapping tables the lookup reads: the attribution assets' deps
on DuckDB, and (with the opted_out view) the tables a Spark run reads from one snapshot."""
