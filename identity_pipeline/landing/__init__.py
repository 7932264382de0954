"""Landed files: reading CSV/Parquet into DuckDB without echoing content, checksums, listing,
and the sensors' settle-aware watch. Shared by contacts, opt-outs, attribution and every
sensor; imports no domain."""
