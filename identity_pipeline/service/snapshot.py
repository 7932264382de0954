"""The published graph the service answers from: a read-only folder of files, never the
warehouse itself (the service must not hold DuckDB's write lock while the pipeline runs).

Layout of `$IDENTITY_SERVICE_GRAPH`: `CURRENT` names the live version folder, swapped by an
atomic rename, so a reader never sees half a snapshot. A version folder holds
- `manifest.json`: format, published_at, counts (persons, identifiers, journal_entries), and
  `ingested_segments` ({log_id: [[first, last], ...]}: the numbers of the service's landing
  files `service-<log_id>-<n>.jsonl` whose events the graph holds, as sorted ranges; the
  service drops exactly those from its memory, whatever order they were ingested in);
- `persons.parquet`: person_id (sorted), anchor_type, anchor_value, first_seen_us,
  last_seen_us, visits, journal_offset, journal_bytes;
- `identifiers.parquet`: id_key (sorted; the graph's key) -> person_idx (row in persons);
- `hubs.parquet`: id_key of every identifier excluded from stitching;
- `person_merges.parquet`: old_person_id -> new_person_id (NULL: dissolved);
- `journal.jsonl`: journal entries (payload as sent plus created_at), grouped by person in
  persons order, newest first; a person's lines are bytes [offset, offset + bytes). It holds
  raw payloads (emails and phones as sent): the folder is the service's serving copy of
  `raw_events`, to be kept like the warehouse, never shared.

`publish_snapshot` writes one from DuckDB relations (`publish_from_warehouse` over the
identity graph tables; `publish_from_pipeline` over them and the events assets' tables, as
the pipeline's `identity_service_snapshot` asset does); `GraphSnapshot.load` maps it into
numpy arrays (about 50 bytes per identifier and person, plus the journal, which stays on disk
behind mmap).
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from identity_pipeline.warehouse import select_sql

FORMAT = 1
UUID_BYTES = 36


@dataclass(frozen=True)
class IngestedSegments:
    """Which of the service's log segments a snapshot's graph has ingested, by log: sorted,
    disjoint ranges of segment numbers (first, last)."""

    ranges: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def covers(self, log_id: str, number: int) -> bool:
        spans = self.ranges.get(log_id, ())
        i = bisect.bisect_right(spans, (number, 1 << 62)) - 1
        return i >= 0 and spans[i][0] <= number <= spans[i][1]

    @classmethod
    def of(cls, numbers: Mapping[str, Iterable[int]]) -> IngestedSegments:
        ranges: dict[str, tuple[tuple[int, int], ...]] = {}
        for log_id, found in numbers.items():
            spans: list[tuple[int, int]] = []
            for n in sorted(set(found)):
                if spans and n == spans[-1][1] + 1:
                    spans[-1] = (spans[-1][0], n)
                else:
                    spans.append((n, n))
            ranges[str(log_id)] = tuple(spans)
        return cls(ranges)

    @classmethod
    def from_manifest(cls, raw: Mapping[str, Any]) -> IngestedSegments:
        """Ranges as written by publish_snapshot; a bare number n (the first format's
        "through n") reads as 1..n."""
        ranges: dict[str, tuple[tuple[int, int], ...]] = {}
        for log_id, value in raw.items():
            if isinstance(value, int):
                ranges[str(log_id)] = ((1, value),) if value > 0 else ()
            else:
                ranges[str(log_id)] = tuple(sorted((int(a), int(b)) for a, b in value))
        return cls(ranges)

    def to_manifest(self) -> dict[str, list[list[int]]]:
        return {k: [[a, b] for a, b in v] for k, v in sorted(self.ranges.items())}

    @property
    def segments(self) -> int:
        return sum(b - a + 1 for spans in self.ranges.values() for a, b in spans)


@dataclass
class GraphSnapshot:
    version: str = ""
    ingested: IngestedSegments = field(default_factory=IngestedSegments)
    person_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="S36"))
    anchor_type: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    anchor_value: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    first_seen_us: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    last_seen_us: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    visits: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    journal_offset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    journal_bytes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    id_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    id_person: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    hub_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    merges: dict[str, str | None] = field(default_factory=dict)
    journal: mmap.mmap | None = None

    @property
    def persons(self) -> int:
        return len(self.person_ids)

    @classmethod
    def load(cls, graph_dir: Path) -> GraphSnapshot:
        """The version CURRENT names; an empty graph when nothing was published yet."""
        current = graph_dir / "CURRENT"
        if not current.exists():
            return cls()
        folder = graph_dir / current.read_text().strip()
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"graph snapshot {folder.name}: unknown format")
        persons = pq.read_table(folder / "persons.parquet")
        ids = pq.read_table(folder / "identifiers.parquet")
        hubs = pq.read_table(folder / "hubs.parquet")
        merges = pq.read_table(folder / "person_merges.parquet")
        person_col = pc.cast(persons.column("person_id").combine_chunks(), pa.binary(UUID_BYTES))
        snap = cls(
            version=folder.name,
            ingested=IngestedSegments.from_manifest(manifest["ingested_segments"]),
            person_ids=np.frombuffer(person_col.buffers()[1], dtype="S36")[: len(person_col)]
            if len(person_col)
            else np.zeros(0, dtype="S36"),
            anchor_type=persons.column("anchor_type").combine_chunks(),
            anchor_value=persons.column("anchor_value").combine_chunks(),
            first_seen_us=_np(persons, "first_seen_us", np.int64),
            last_seen_us=_np(persons, "last_seen_us", np.int64),
            visits=_np(persons, "visits", np.int64),
            journal_offset=_np(persons, "journal_offset", np.int64),
            journal_bytes=_np(persons, "journal_bytes", np.int64),
            id_keys=_np(ids, "id_key", np.int64),
            id_person=_np(ids, "person_idx", np.int32),
            hub_keys=np.sort(_np(hubs, "id_key", np.int64)),
            merges=dict(
                zip(
                    merges.column("old_person_id").to_pylist(),
                    merges.column("new_person_id").to_pylist(),
                    strict=True,
                )
            ),
        )
        journal_path = folder / "journal.jsonl"
        if journal_path.stat().st_size:
            with journal_path.open("rb") as handle:
                snap.journal = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return snap

    def person_of(self, key: int) -> int:
        """Row in persons of the identifier with this id_key; -1 if not in the graph."""
        i = int(np.searchsorted(self.id_keys, key))
        if i < len(self.id_keys) and self.id_keys[i] == key:
            return int(self.id_person[i])
        return -1

    def is_hub(self, key: int) -> bool:
        i = int(np.searchsorted(self.hub_keys, key))
        return i < len(self.hub_keys) and int(self.hub_keys[i]) == key

    def person_index(self, person_id: str) -> int:
        raw = person_id.encode()
        if len(raw) != UUID_BYTES:
            return -1
        i = int(np.searchsorted(self.person_ids, raw))
        if i < len(self.person_ids) and self.person_ids[i] == raw:
            return i
        return -1

    def person_id(self, idx: int) -> str:
        return bytes(self.person_ids[idx]).decode()

    def anchor(self, idx: int) -> tuple[int, int, str, str]:
        """(first_seen_us, type rank, value, type): the anchor order of graph-core."""
        from identity_pipeline.service.identifiers import TYPE_RANK

        id_type = str(self.anchor_type[idx].as_py())
        return (
            int(self.first_seen_us[idx]),
            TYPE_RANK[id_type],
            str(self.anchor_value[idx].as_py()),
            id_type,
        )

    def journal_lines(self, idx: int) -> list[bytes]:
        size = int(self.journal_bytes[idx])
        if not size or self.journal is None:
            return []
        start = int(self.journal_offset[idx])
        return self.journal[start : start + size].rstrip(b"\n").split(b"\n")


def _np(table: pa.Table, name: str, dtype: Any) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=dtype)


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    graph_dir: Path,
    *,
    persons: str,
    graph: str,
    hubs: str,
    merges: str,
    journal: str | None = None,
    ingested_segments: Mapping[str, Iterable[int]] | None = None,
    keep_versions: int = 2,
) -> Path:
    """Write a new snapshot version from DuckDB relations (our own names) and make it
    CURRENT. persons: person_id, anchor_type, anchor_value, first_seen_at, last_seen_at,
    visits; graph: id_key, person_id; hubs: id_key; merges: old_person_id, new_person_id;
    journal: person_id, created_at, entry (JSON text of the payload plus created_at);
    ingested_segments: {log_id: segment numbers} of the service's landing files the graph
    holds. Returns the version folder; its manifest.json has the counts."""
    graph_dir.mkdir(parents=True, exist_ok=True)
    version = "v-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = graph_dir / f".{version}.tmp"
    folder.mkdir()
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE svc_persons AS
        SELECT row_number() OVER (ORDER BY person_id) - 1 AS idx, person_id, anchor_type,
            anchor_value, epoch_us(first_seen_at) AS first_seen_us,
            epoch_us(last_seen_at) AS last_seen_us, CAST(visits AS BIGINT) AS visits
        FROM {persons}
        """
    )
    journal_source = (
        f"SELECT person_id, created_at, entry FROM {journal}"
        if journal
        else "SELECT NULL::VARCHAR AS person_id, NULL::TIMESTAMP AS created_at, "
        "NULL::VARCHAR AS entry WHERE false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE svc_journal AS
        SELECT p.idx, j.entry, octet_length(encode(j.entry)) + 1 AS n,
            row_number() OVER (ORDER BY p.idx, j.created_at DESC, j.entry) AS r
        FROM ({journal_source}) AS j JOIN svc_persons AS p USING (person_id)
        """
    )
    with (folder / "journal.jsonl").open("wb") as out:
        reader = con.sql("SELECT entry FROM svc_journal ORDER BY r").to_arrow_reader()
        for batch in reader:
            entries = batch.column(0).to_pylist()
            if entries:
                out.write(("\n".join(entries) + "\n").encode())
    con.execute(
        f"""
        COPY (
            WITH spans AS (
                SELECT idx, sum(n) OVER (ORDER BY r) - n AS start, n FROM svc_journal
            ), per_person AS (
                SELECT idx, min(start) AS journal_offset, sum(n) AS journal_bytes
                FROM spans GROUP BY idx
            )
            SELECT p.person_id, p.anchor_type, p.anchor_value, p.first_seen_us, p.last_seen_us,
                p.visits, coalesce(s.journal_offset, 0)::BIGINT AS journal_offset,
                coalesce(s.journal_bytes, 0)::BIGINT AS journal_bytes
            FROM svc_persons AS p LEFT JOIN per_person AS s USING (idx)
            ORDER BY p.idx
        ) TO '{folder / "persons.parquet"}' (FORMAT parquet);
        COPY (
            SELECT g.id_key, CAST(p.idx AS INTEGER) AS person_idx
            FROM {graph} AS g JOIN svc_persons AS p USING (person_id) ORDER BY g.id_key
        ) TO '{folder / "identifiers.parquet"}' (FORMAT parquet);
        COPY (SELECT DISTINCT id_key FROM {hubs} ORDER BY id_key)
            TO '{folder / "hubs.parquet"}' (FORMAT parquet);
        COPY (SELECT old_person_id, new_person_id FROM {merges})
            TO '{folder / "person_merges.parquet"}' (FORMAT parquet);
        """
    )
    counts = con.execute(
        f"""
        SELECT (SELECT count(*) FROM svc_persons),
            (SELECT count(*) FROM {graph} AS g JOIN svc_persons AS p USING (person_id)),
            (SELECT count(*) FROM svc_journal)
        """
    ).fetchall()[0]
    con.execute("DROP TABLE svc_persons; DROP TABLE svc_journal")
    manifest = {
        "format": FORMAT,
        "published_at": datetime.now(UTC).isoformat(),
        "persons": int(counts[0]),
        "identifiers": int(counts[1]),
        "journal_entries": int(counts[2]),
        "ingested_segments": IngestedSegments.of(ingested_segments or {}).to_manifest(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    folder.replace(graph_dir / version)
    tmp = graph_dir / ".CURRENT.tmp"
    tmp.write_text(version)
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(graph_dir / "CURRENT")
    old = sorted(p for p in graph_dir.iterdir() if p.is_dir() and p.name.startswith("v-"))
    for stale in old[:-keep_versions]:
        shutil.rmtree(stale, ignore_errors=True)
    return graph_dir / version


def publish_from_warehouse(
    con: duckdb.DuckDBPyConnection,
    graph_dir: Path,
    *,
    journal: str | None = None,
    activity: str | None = None,
    ingested_segments: Mapping[str, Iterable[int]] | None = None,
) -> Path:
    """Publish the identity graph tables (identity_graph, persons, identity_hubs,
    person_merges) of `con`, the pipeline's connection, as a snapshot.

    graph-core's persons table keeps no activity (left to the events assets): pass
    `activity` (person_id, visits, last_seen_at) when one exists; without it visits are 0 and
    last_seen_at is first_seen_at, so the service counts visits from its own events only."""
    source = (
        f"""
        SELECT p.person_id, p.anchor_type, p.anchor_value, p.first_seen_at,
            coalesce(a.last_seen_at, p.first_seen_at) AS last_seen_at,
            coalesce(a.visits, 0) AS visits
        FROM identity_persons AS p LEFT JOIN {activity} AS a USING (person_id)
        """
        if activity
        else """
        SELECT person_id, anchor_type, anchor_value, first_seen_at,
            first_seen_at AS last_seen_at, 0 AS visits
        FROM identity_persons
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW svc_src_persons AS {source}")
    try:
        return publish_snapshot(
            con,
            graph_dir,
            persons="svc_src_persons",
            graph="identity_graph",
            hubs="identity_hubs",
            merges="person_merges",
            journal=journal,
            ingested_segments=ingested_segments,
        )
    finally:
        con.execute("DROP VIEW IF EXISTS svc_src_persons")


SQL_PACKAGE = "identity_pipeline.service"


@dataclass(frozen=True)
class Published:
    folder: Path
    persons: int
    identifiers: int
    journal_entries: int
    ingested_segments: int


def publish_from_pipeline(con: duckdb.DuckDBPyConnection, graph_dir: Path) -> Published:
    """Publish what the pipeline's tables hold: the graph (identity_graph, identity_persons'
    anchors, identity_hubs, person_merges), each person's visits and last_seen_at from
    `persons`, the journal from `person_journal` with each event's payload from `raw_events`
    (sql/select_service_journal.sql), and which service segments all that covers
    (sql/select_service_segments_ingested.sql). Reads only; temp tables are dropped."""
    segments: dict[str, list[int]] = {}
    rows = con.execute(select_sql(SQL_PACKAGE, "select_service_segments_ingested.sql"))
    for log_id, number in rows.fetchall():
        segments.setdefault(str(log_id), []).append(int(number))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE svc_pipeline_journal AS "
        + select_sql(SQL_PACKAGE, "select_service_journal.sql")
    )
    try:
        folder = publish_from_warehouse(
            con,
            graph_dir,
            journal="svc_pipeline_journal",
            activity="persons",
            ingested_segments=segments,
        )
    finally:
        con.execute("DROP TABLE IF EXISTS svc_pipeline_journal")
    manifest = json.loads((folder / "manifest.json").read_text())
    return Published(
        folder=folder,
        persons=int(manifest["persons"]),
        identifiers=int(manifest["identifiers"]),
        journal_entries=int(manifest["journal_entries"]),
        ingested_segments=sum(len(v) for v in segments.values()),
    )
