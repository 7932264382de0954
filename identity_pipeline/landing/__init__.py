"""Landed files: reading CSV/Parquet into DuckDB without echoing content, checksums, listing,
each domain's ledger row per file, and the sensors' settle-aware watch. Shared by contacts,
opt-outs, attribution, privacy and every sensor; imports no domain."""
