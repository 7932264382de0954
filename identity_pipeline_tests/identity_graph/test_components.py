"""scipy and the portable SQL give the same partition; both label with the smallest key."""

import random
from collections.abc import Iterable

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_pipeline.identity_graph.components import components


def _oracle(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    parent = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for n in parent:
        groups.setdefault(find(n), []).append(n)
    return {n: min(members) for members in groups.values() for n in members}


def _both(nodes: list[int], edges: list[tuple[int, int]]) -> tuple[dict[int, int], ...]:
    con = duckdb.connect()
    con.register("n_arrow", pa.table({"id_key": pa.array(nodes, pa.int64())}))
    con.register(
        "e_arrow",
        pa.table(
            {
                "key_a": pa.array([a for a, _ in edges], pa.int64()),
                "key_b": pa.array([b for _, b in edges], pa.int64()),
            }
        ),
    )
    con.execute("CREATE TABLE n AS SELECT * FROM n_arrow; CREATE TABLE e AS SELECT * FROM e_arrow")
    results = []
    for method in ("scipy", "sql"):
        components(con, "e", "out", method)  # type: ignore[arg-type]
        linked = dict(con.execute("SELECT id_key, component FROM out").fetchall())
        endpoints = {k for edge in edges for k in edge if edge[0] != edge[1]}
        assert endpoints <= set(linked) <= set(nodes)
        results.append({n: linked.get(n, n) for n in nodes})
    return tuple(results)


def _check(nodes: list[int], edges: list[tuple[int, int]]) -> None:
    scipy_result, sql_result = _both(nodes, edges)
    expected = _oracle(nodes, edges)
    assert scipy_result == expected
    assert sql_result == expected


keys = st.integers(min_value=-(2**62), max_value=2**62)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(keys, min_size=1, max_size=60, unique=True).flatmap(
        lambda ns: st.tuples(
            st.just(ns),
            st.lists(st.tuples(st.sampled_from(ns), st.sampled_from(ns)), max_size=90),
        )
    )
)
def test_random_graphs(graph: tuple[list[int], list[tuple[int, int]]]):
    nodes, edges = graph
    _check(nodes, edges)


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=2, max_value=300), st.booleans(), st.randoms(use_true_random=False))
def test_chains_numbered_along_the_chain_or_not(length: int, ordered: bool, rnd: random.Random):
    nodes = list(range(length)) if ordered else rnd.sample(range(10**9), length)
    chains = [nodes[i : i + 50] for i in range(0, length, 50)]
    edges = [(c[i], c[i + 1]) for c in chains for i in range(len(c) - 1)]
    _check(nodes, edges)


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.integers(min_value=-5, max_value=5))
def test_stars_with_centre_anywhere(leaves: int, centre: int):
    nodes = [centre * 1000] + [i for i in range(1, leaves + 1) if i != centre * 1000]
    edges = [(nodes[0], leaf) for leaf in nodes[1:]] + [(nodes[-1], nodes[-1])]
    _check(nodes, edges)


def test_identity_shaped_graph_with_hubs_and_isolated_nodes():
    rnd = random.Random(15)
    nodes = rnd.sample(range(-(10**12), 10**12), 5000)
    edges = []
    person = 0
    while person < 4000:  # persons of 1-8 identifiers, linked along a random spanning path
        size = rnd.choice([1, 1, 1, 2, 2, 3, 4, 8])
        members = nodes[person : person + size]
        edges += [(members[i], members[rnd.randrange(i + 1)]) for i in range(1, len(members))]
        person += size
    for hub in nodes[4000:4005]:  # a few hubs joining hundreds, and cross links
        edges += [(hub, rnd.choice(nodes)) for _ in range(300)]
    edges += [(rnd.choice(nodes), rnd.choice(nodes)) for _ in range(100)]
    edges += edges[:50]  # duplicates
    _check(nodes, edges)


def test_empty_graph():
    assert _both([], []) == ({}, {})
