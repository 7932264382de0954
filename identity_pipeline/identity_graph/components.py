"""Connected components: scipy for the DuckDB path, portable SQL for other engines.

Both give each node that has an edge the smallest node key of its component (a node without
edges is alone), so results compare directly and depend neither on input order nor on how
nodes happen to be numbered.

- `components_scipy`: DuckDB -> numpy -> `scipy.sparse.csgraph.connected_components`, the
  fastest measured here (IDENTITY_GRAPH.md: 0.48 s for 2M identifiers).
- `components_sql`: hook every node to its smallest neighbour, jump pointers until every node
  points to a root, relabel, contract edges to the roots, repeat until no edge is left. Only
  SELECTs with joins and GROUP BY (sql/select_cc_*.sql), so the Spark engine can run the same
  files. Tests keep it equal to scipy.
- `components_spark`: the same select_cc_*.sql files, converted to Spark SQL by the engine's
  dialect and run on a Spark session (IDENTITY_PIPELINE_ENGINE=spark). The edges go from
  DuckDB to Spark as Arrow, every round's tables are local checkpoints (the lineage is cut each
  round, so the plan does not grow with the rounds), and the (id_key, component) rows come back
  to a DuckDB temp table as Arrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import duckdb

from identity_pipeline.identity_graph.sql_files import count, materialize, sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from identity_pipeline.engine.spark import SparkEngine

Method = Literal["scipy", "sql", "spark"]
MAX_ROUNDS = 200
SPARK_VIEWS = ("ig_cc_input_edges", "ig_cc_edges", "ig_cc_labels", "ig_cc_hooks")
"""The temp views components_spark keeps on the Spark session (the names the SQL files read)."""


def components(
    con: duckdb.DuckDBPyConnection,
    edges: str,
    out: str,
    method: Method = "scipy",
    spark: SparkEngine | None = None,
) -> int:
    """Temp table `out` (id_key, component) for every node of `edges` (key_a, key_b): the
    smallest key of its component. A node with no edge is alone in its component and has no
    row. Table names are our own constants. Returns the number of rounds (scipy: 1).
    Method "spark" runs on the `spark` engine."""
    if method == "scipy":
        return components_scipy(con, edges, out)
    if method == "sql":
        return components_sql(con, edges, out)
    if method == "spark":
        if spark is None:
            raise ValueError("components on spark need a SparkEngine")
        return components_spark(con, edges, out, spark)
    raise ValueError(f"unknown components method {method!r}")


def components_scipy(con: duckdb.DuckDBPyConnection, edges: str, out: str) -> int:
    import numpy as np
    import pyarrow as pa
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    pairs = con.execute(f"SELECT key_a, key_b FROM {edges}").fetchnumpy()
    m = len(pairs["key_a"])
    # dense numbering of the endpoints; keys come back sorted, so a smaller index is a smaller key
    keys, index = np.unique(np.concatenate([pairs["key_a"], pairs["key_b"]]), return_inverse=True)
    del pairs
    n = len(keys)
    index = index.astype(np.int32 if n < 2**31 else np.int64)
    graph = csr_array((np.ones(m, dtype=np.int8), (index[:m], index[m:])), shape=(n, n))
    del index
    count_, labels = connected_components(graph, directed=False)
    del graph
    first = np.full(count_, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n, dtype=np.int64))
    result = pa.table({"id_key": pa.array(keys), "component": pa.array(keys[first[labels]])})
    con.register("ig_cc_arrow", result)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM ig_cc_arrow")
    finally:
        con.unregister("ig_cc_arrow")
    return 1


def components_sql(con: duckdb.DuckDBPyConnection, edges: str, out: str) -> int:
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW ig_cc_input_edges AS "
        f"SELECT key_a AS src, key_b AS dst FROM {edges}"
    )
    materialize(con, "ig_cc_edges", "select_cc_edges.sql")
    materialize(con, "ig_cc_labels", "select_cc_initial_labels.sql")
    rounds = 0
    while count(con, "SELECT count(*) FROM ig_cc_edges") > 0:
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
        materialize(con, "ig_cc_hooks", "select_cc_hooks.sql")
        while count(con, sql("select_cc_unsettled_count.sql")) > 0:
            materialize(con, "ig_cc_jumped", "select_cc_jumped_hooks.sql")
            con.execute("CREATE OR REPLACE TEMP TABLE ig_cc_hooks AS SELECT * FROM ig_cc_jumped")
        materialize(con, "ig_cc_relabelled", "select_cc_relabelled.sql")
        con.execute("CREATE OR REPLACE TEMP TABLE ig_cc_labels AS SELECT * FROM ig_cc_relabelled")
        materialize(con, "ig_cc_contracted", "select_cc_contracted_edges.sql")
        con.execute("CREATE OR REPLACE TEMP TABLE ig_cc_edges AS SELECT * FROM ig_cc_contracted")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT node AS id_key, label AS component "
        "FROM ig_cc_labels"
    )
    con.execute(
        "DROP VIEW ig_cc_input_edges; DROP TABLE ig_cc_labels; "
        "DROP TABLE ig_cc_edges; DROP TABLE IF EXISTS ig_cc_hooks; "
        "DROP TABLE IF EXISTS ig_cc_jumped; DROP TABLE IF EXISTS ig_cc_relabelled; "
        "DROP TABLE IF EXISTS ig_cc_contracted"
    )
    return rounds


def components_spark(
    con: duckdb.DuckDBPyConnection, edges: str, out: str, engine: SparkEngine
) -> int:
    """components_sql's rounds on Spark, from the same SQL files; `out` lands in DuckDB."""
    frames: dict[str, DataFrame] = {}

    def keep(view: str, frame: DataFrame) -> int:
        """Materialize `frame` as temp view `view`, replacing the previous one; its rows.

        Cached and counted first, then locally checkpointed (lineage cut) and uncached: a
        checkpoint keeps its plan's size estimate, and without CBO a join's estimate is the
        product of its inputs', so checkpointing the joins directly squares the estimate on
        every pointer jump until planning itself crawls; the cached plan's is the real size."""
        cached = frame.cache()
        rows = int(cached.count())
        checkpointed = cached.localCheckpoint(eager=True)
        cached.unpersist()
        checkpointed.createOrReplaceTempView(view)
        frames[view] = checkpointed  # the previous frame is released once unreferenced
        return rows

    def select(name: str) -> DataFrame:
        return engine.select(sql(name), {})

    try:
        keep(
            "ig_cc_input_edges",
            engine.frame_from_duckdb(con, f"SELECT key_a AS src, key_b AS dst FROM {edges}"),
        )
        remaining = keep("ig_cc_edges", select("select_cc_edges.sql"))
        keep("ig_cc_labels", select("select_cc_initial_labels.sql"))
        rounds = 0
        while remaining > 0:
            rounds += 1
            if rounds > MAX_ROUNDS:
                raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
            keep("ig_cc_hooks", select("select_cc_hooks.sql"))
            while select("select_cc_unsettled_count.sql").collect()[0][0] > 0:
                keep("ig_cc_hooks", select("select_cc_jumped_hooks.sql"))
            keep("ig_cc_labels", select("select_cc_relabelled.sql"))
            remaining = keep("ig_cc_edges", select("select_cc_contracted_edges.sql"))
        labels = engine.session.table("ig_cc_labels")
        result = labels.selectExpr("node AS id_key", "label AS component").toArrow()
    finally:
        for view in SPARK_VIEWS:
            engine.session.catalog.dropTempView(view)
        frames.clear()
    con.register("ig_cc_arrow", result)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {out} AS "
            "SELECT CAST(id_key AS BIGINT) AS id_key, CAST(component AS BIGINT) AS component "
            "FROM ig_cc_arrow"
        )
    finally:
        con.unregister("ig_cc_arrow")
    return rounds
