"""Deterministic identity graph (issue 15): events' identifiers stitched into persons.

Plain logic, no Dagster: `identifiers` extracts typed identifiers and finds hubs,
`components` computes connected components (scipy for DuckDB, portable SQL kept equal by
tests), `persons` gives each component a stable UUID and logs merges and splits, and
`stitch` runs the whole refresh, incremental or from scratch.
"""
