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
"""

from __future__ import annotations

from typing import Literal

import duckdb

from identity_pipeline.identity_graph.sql_files import count, materialize, sql

Method = Literal["scipy", "sql"]
MAX_ROUNDS = 200


def components(
    con: duckdb.DuckDBPyConnection, edges: str, out: str, method: Method = "scipy"
) -> int:
    """Temp table `out` (id_key, component) for every node of `edges` (key_a, key_b): the
    smallest key of its component. A node with no edge is alone in its component and has no
    row. Table names are our own constants. Returns the number of rounds (scipy: 1)."""
    if method == "scipy":
        return components_scipy(con, edges, out)
    if method == "sql":
        return components_sql(con, edges, out)
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
