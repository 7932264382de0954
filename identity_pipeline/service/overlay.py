"""Answers from the published graph plus every event accepted since (read-your-writes).

A union-find over the identifiers of accepted events, seeded with the snapshot's
identifier -> person map: an identifier the snapshot knows stands for its person's node, a new
identifier for itself. Each root keeps what the graph's next run will compute for that
component (persons.py of the identity graph): its anchor, the earliest-seen identifier (ties:
type priority, then value; the older anchor survives a merge), so its UUID is the one the
pipeline will give; its visits; and its events for the journal. Hubs and blocked values link
nothing, as in the graph. Single-threaded: only the event loop touches it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from identity_pipeline.identity_graph.persons import person_id_for
from identity_pipeline.service.identifiers import Identifier
from identity_pipeline.service.snapshot import GraphSnapshot

VISIT_GAP_US = 30 * 60 * 1_000_000
"""A visit (session) ends after 30 minutes without events (issue 15's rule)."""

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Anchor = tuple[int, int, str, str, int]
"""(first_seen_us, type rank, value, type, snapshot person row or -1)."""


class Event(NamedTuple):
    segment: int  # the log segment holding it: a graph that ingested it makes it redundant
    created_at: str
    created_us: int
    entry: bytes  # journal entry JSON: the payload as sent plus created_at
    identifiers: tuple[Identifier, ...]  # usable ones (blocked values left out)
    anonymous_id: str | None = None  # as sent: it may name a person by UUID


@dataclass(slots=True)
class Root:
    anchor: Anchor
    size: int = 1
    visits: int = 0
    last_us: int = 0
    events: list[int] = field(default_factory=list)
    persons: list[int] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return person_id_for(self.anchor[3], self.anchor[2])


@dataclass(frozen=True, slots=True)
class Person:
    uuid: str
    visits: int
    root: Root | None  # None: a snapshot person no accepted event touched
    snapshot_row: int = -1


class Overlay:
    def __init__(self, snapshot: GraphSnapshot) -> None:
        self.snapshot = snapshot
        self._parent: dict[int, int] = {}
        self._roots: dict[int, Root] = {}
        self._uuid_nodes: dict[str, int] = {}  # every UUID answered since the snapshot -> node
        self.events: list[Event] = []

    def carry_over(self, snapshot: GraphSnapshot, ingested: Callable[[int], bool]) -> Overlay:
        """A new overlay on a newer snapshot, holding the events it has not ingested (those
        in segments n with `ingested(n)` false), in the order they were accepted."""
        fresh = Overlay(snapshot)
        for event in self.events:
            if not ingested(event.segment):
                fresh.apply(event)
        return fresh

    # -- union-find ----------------------------------------------------------------------
    def _find(self, node: int) -> int:
        parent = self._parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def _row_node(self, row: int) -> int:
        """The node of snapshot person `row`, made on first use."""
        node = -(row + 1)
        if node not in self._parent:
            self._parent[node] = node
            self._roots[node] = Root(
                anchor=(*self.snapshot.anchor(row), row),
                visits=int(self.snapshot.visits[row]),
                last_us=int(self.snapshot.last_seen_us[row]),
                persons=[row],
            )
        return node

    def _node_for(self, identifier: Identifier, created_us: int) -> int:
        row = self.snapshot.person_of(identifier.id_key)
        if row >= 0:
            return self._row_node(row)
        node = identifier.id_key
        if node not in self._parent:
            self._parent[node] = node
            anchor = (created_us, identifier.rank, identifier.id_value, identifier.id_type, -1)
            self._roots[node] = Root(anchor=anchor)
        return node

    def _uuid_node(self, uuid: str) -> int | None:
        """The node of the person a UUID names (live or retired, here or in the snapshot's
        person_merges); None if it names nobody."""
        seen: set[str] = set()
        current: str | None = uuid
        while current is not None and current not in seen:
            seen.add(current)
            if current in self._uuid_nodes:
                return self._find(self._uuid_nodes[current])
            row = self.snapshot.person_index(current)
            if row >= 0:
                return self._find(self._row_node(row)) if -(row + 1) in self._parent else -(row + 1)
            current = self.snapshot.merges.get(current)
        return None

    def _person_uuid_node(self, anonymous_id: str | None) -> int | None:
        if not anonymous_id:
            return None
        candidate = anonymous_id.strip().lower()
        return self._uuid_node(candidate) if UUID_RE.match(candidate) else None

    def _union(self, a: int, b: int) -> int:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return ra
        big, small = self._roots[ra], self._roots[rb]
        if big.size < small.size:
            ra, rb, big, small = rb, ra, small, big
        survivor = min(big.anchor, small.anchor)
        for root in (big, small):
            if root.anchor != survivor:  # its UUID retires: it resolves to the survivor
                self._uuid_nodes.setdefault(self._uuid(root), ra)
        big.anchor = survivor
        big.size += small.size
        big.visits += small.visits
        big.last_us = max(big.last_us, small.last_us)
        big.events.extend(small.events)
        big.persons.extend(small.persons)
        self._parent[rb] = ra
        del self._roots[rb]
        return ra

    def _uuid(self, root: Root) -> str:
        row = root.anchor[4]
        return self.snapshot.person_id(row) if row >= 0 else root.uuid

    # -- writes ---------------------------------------------------------------------------
    def apply(self, event: Event) -> Person | None:
        """Record one committed event; its person (None if no identifier can link)."""
        index = len(self.events)
        self.events.append(event)
        created_us = event.created_us
        usable = [i for i in event.identifiers if not self.snapshot.is_hub(i.id_key)]
        nodes = []
        named = self._person_uuid_node(event.anonymous_id)
        if named is not None:  # an anonymous_id that is a person's UUID names that person
            if named < 0 and named not in self._parent:
                named = self._row_node(-named - 1)
            nodes.append(named)
            usable = [i for i in usable if i.id_type != "anonymous_id"]
        nodes.extend(self._node_for(i, created_us) for i in usable)
        if not nodes:
            return None
        root_node = nodes[0]
        for node in nodes[1:]:
            root_node = self._union(root_node, node)
        root_node = self._find(root_node)
        root = self._roots[root_node]
        root.events.append(index)
        if root.last_us == 0 or created_us - root.last_us > VISIT_GAP_US:
            root.visits += 1
        root.last_us = max(root.last_us, created_us)
        uuid = self._uuid(root)
        self._uuid_nodes.setdefault(uuid, root_node)
        return Person(uuid, root.visits, root)

    # -- reads ----------------------------------------------------------------------------
    def lookup(self, identifiers: list[Identifier], anonymous_id: str | None) -> Person | None:
        """When anonymous_id is a person's UUID (seed 003's Dagster example sends one), that
        person, following merges made here and the snapshot's person_merges; else the person
        of the first identifier (type priority) anyone knows."""
        named = self._person_uuid_node(anonymous_id)
        if named is not None:
            return (
                self._person(named) if named in self._roots else self._snapshot_person(-named - 1)
            )
        for identifier in sorted(identifiers, key=lambda i: i.rank):
            if identifier.id_key in self._parent:
                return self._person(self._find(identifier.id_key))
            row = self.snapshot.person_of(identifier.id_key)
            if row >= 0:
                return self._snapshot_person(row)
        return None

    def _snapshot_person(self, row: int) -> Person:
        node = -(row + 1)
        if node in self._parent:
            return self._person(self._find(node))
        return Person(self.snapshot.person_id(row), int(self.snapshot.visits[row]), None, row)

    def _person(self, root_node: int) -> Person:
        root = self._roots[root_node]
        return Person(self._uuid(root), root.visits, root)

    def journal(self, person: Person, limit: int) -> list[bytes]:
        """The person's journal entries (JSON), newest first, at most `limit`."""
        rows = person.root.persons if person.root is not None else [person.snapshot_row]
        published: list[bytes] = []
        for row in rows:
            published.extend(self.snapshot.journal_lines(row))
        recent: list[tuple[str, int, bytes]] = []
        if person.root is not None:
            recent = [
                (self.events[i].created_at, i, self.events[i].entry) for i in person.root.events
            ]
            recent.sort(reverse=True)
        if not recent and len(rows) == 1:
            return published[:limit]
        merged = [(json.loads(line)["created_at"], -1, line) for line in published]
        merged.extend(recent)
        merged.sort(key=lambda e: (e[0], e[1]), reverse=True)
        return [entry for _, _, entry in merged[:limit]]
