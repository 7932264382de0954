"""The identity graph's connected components on Spark (through Spark Connect) equal scipy's.

One skewed graph holds what makes component algorithms slow or wrong: long chains numbered
along the chain (both ways) and at random, a big star whose centre has the largest key, many
small components, self loops and duplicate edges. The Spark run executes the same
select_cc_*.sql files as the portable SQL method, in a child process (Connect mode is
process-wide in pyspark); scipy runs here on the same DuckDB table.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from identity_pipeline.dev.spark_processes import ConnectServer
from identity_pipeline.identity_graph.components import components
from identity_pipeline_tests.dagster_processes import PROJECT

pytestmark = pytest.mark.integration

CHAIN, STAR, SMALL = 150, 800, 250
LONE = 10**16  # outside the random keys' range
"""Sizes: enough for several rounds and long pointer jumping, small enough that the Spark jobs
(a few per round, each with a fixed cost) stay within a CI minute or two."""


def skewed_edges(seed: int = 17) -> list[tuple[int, int]]:
    rnd = random.Random(seed)
    keys = iter(rnd.sample(range(-(10**15), 10**15), 5_000))
    edges: list[tuple[int, int]] = []
    ascending = sorted(next(keys) for _ in range(CHAIN))
    descending = sorted((next(keys) for _ in range(CHAIN)), reverse=True)
    shuffled = [next(keys) for _ in range(CHAIN)]
    for chain in (ascending, descending, shuffled):  # long chains, keys along them or not
        edges += list(pairwise(chain))
    leaves = sorted(next(keys) for _ in range(STAR))
    centre = leaves.pop()  # the largest key: every leaf hooks to the smallest, not the centre
    edges += [(centre, leaf) if n % 2 else (leaf, centre) for n, leaf in enumerate(leaves)]
    for _ in range(SMALL):  # persons of 2-5 identifiers along a random spanning tree
        members = [next(keys) for _ in range(rnd.randint(2, 5))]
        edges += [(members[i], members[rnd.randrange(i)]) for i in range(1, len(members))]
    edges += [(LONE, LONE), (centre, centre)]  # self loops: no component of their own
    edges += edges[:300]  # duplicates
    return edges


def edges_table(con: duckdb.DuckDBPyConnection, name: str, edges: list[tuple[int, int]]) -> None:
    con.register(
        "edges_arrow",
        pa.table(
            {
                "key_a": pa.array([a for a, _ in edges], pa.int64()),
                "key_b": pa.array([b for _, b in edges], pa.int64()),
            }
        ),
    )
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM edges_arrow")
    con.unregister("edges_arrow")


def test_components_on_spark_connect_equal_scipy_on_a_skewed_graph(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    db = tmp_path / "graph.duckdb"
    with duckdb.connect(str(db)) as con:
        edges_table(con, "skewed", skewed_edges())
        edges_table(con, "no_edges", [])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env["SPARK_REMOTE"] = spark_connect.url
    command = [sys.executable, "-m", "identity_pipeline_tests.engine.components_run"]
    done = subprocess.run(
        [*command, str(db), "skewed", "no_edges"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"rounds on Spark: {report['rounds']}")
    assert report["connect"] is True
    assert report["views_left"] == []  # every ig_cc_* view dropped after the run
    assert report["rounds"]["no_edges"] == 0
    assert report["rounds"]["skewed"] >= 2  # the random chain needs more than one contraction

    with duckdb.connect(str(db)) as con:
        components(con, "skewed", "on_scipy", "scipy")
        assert con.execute("DESCRIBE skewed_on_spark").fetchall() == (
            con.execute("DESCRIBE on_scipy").fetchall()
        )
        expected = dict(con.execute("SELECT * FROM on_scipy").fetchall())
        actual = dict(con.execute("SELECT * FROM skewed_on_spark").fetchall())
        sizes = dict(
            con.execute(
                "SELECT component, count(*) FROM on_scipy GROUP BY ALL ORDER BY 2 DESC LIMIT 1"
            ).fetchall()
        )
        assert con.execute("SELECT count(*) FROM no_edges_on_spark").fetchone() == (0,)
    assert len(expected) > 1_500
    assert max(sizes.values()) == STAR  # the star, centre included
    # A node whose only edge is a self loop is alone: scipy gives it a row, the SQL none
    # (as on DuckDB: test_components.py compares the same way).
    assert set(expected) - set(actual) == {LONE}
    assert {n: actual.get(n, n) for n in expected} == expected
