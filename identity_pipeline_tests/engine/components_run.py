"""Connected components on the Spark engine in a process of its own (see spark_run.py for why).

    python -m identity_pipeline_tests.engine.components_run DB TABLE [TABLE ...]

For each edges table (key_a, key_b) of the DuckDB file DB, runs components.components_spark on a
session configured only by the environment ($SPARK_REMOTE or $SPARK_MASTER, ...) and stores the
result as table <TABLE>_on_spark (id_key, component). Prints one JSON line: the rounds per table
and the temp views left on the Spark session afterwards (there should be none).
"""

from __future__ import annotations

import json
import sys

import duckdb

from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.identity_graph.components import components


def main(argv: list[str]) -> int:
    db, *tables = argv
    resource = SparkResource(app_name="identity_pipeline components test")
    rounds: dict[str, int] = {}
    report: dict[str, object] = {"connect": resource.settings.connect, "rounds": rounds}
    try:
        engine = resource.engine()
        with duckdb.connect(db) as con:
            for table in tables:
                rounds[table] = components(con, table, "ig_out", "spark", engine)
                con.execute(f"CREATE OR REPLACE TABLE {table}_on_spark AS SELECT * FROM ig_out")
        report["views_left"] = sorted(
            t.name for t in engine.session.catalog.listTables() if t.isTemporary
        )
    finally:
        resource.stop()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
