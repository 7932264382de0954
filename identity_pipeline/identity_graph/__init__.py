"""Deterministic identity graph (issue 15): events' identifiers stitched into persons.

Plain logic, no Dagster: `identifiers` extracts typed identifiers and finds hubs,
`components` computes connected components (scipy for DuckDB, portable SQL kept equal by
tests), `persons` gives each component a stable UUID and logs merges and splits, `stitch`
runs the whole stitching, incremental or from scratch, and `refresh` feeds it from the
warehouse (raw_events, customer_dii) and builds `persons` and `person_journal`.
The Dagster side: `assets` (identity_graph, persons, person_journal) and `definitions` (the
identity_graph_refresh job, the events sensor, the daily schedule).
"""
