"""The durable event log: append-only segments, group commit, publication into landing.

Every accepted event is one JSON line (seed 003's request body as sent, plus `event_id` and
`created_at`: the landing row of issue 15) appended to the open segment in
`$IDENTITY_SERVICE_DATA/wal/`. One writer thread takes every request waiting, writes them in
one `write`, `fdatasync`s once (group commit) and only then lets their answers go out, so a
SIGKILL loses nothing that was acknowledged.

A segment is closed when it passes IDENTITY_SERVICE_SEGMENT_BYTES or has been open
IDENTITY_SERVICE_SEGMENT_SECONDS, and published: copied to
`$IDENTITY_PIPELINE_LANDING/events/.service-<log>-<n>.jsonl.tmp`, synced, renamed to
`service-<log>-<n>.jsonl` (atomic; the pipeline never sees half a file), then renamed in the
log to `segment-<n>.published.jsonl`. On start, a torn last line (never acknowledged) is cut
off and every unpublished segment is published; names are deterministic, so publishing twice
replaces a file with the same bytes.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEGMENT_RE = re.compile(r"^segment-(\d{9})(\.published)?\.jsonl$")


@dataclass(slots=True)
class Pending:
    """One event waiting for its commit. `extra` is the caller's (identifiers etc.)."""

    line: bytes
    extra: Any
    future: asyncio.Future[Any] | None = None
    blocked: set[int] = field(default_factory=set)
    segment: int = 0  # set by the writer: the segment the line went into


BatchHook = Callable[[list[Pending]], None]
"""Called with one group commit's items: before the write (`prepare`) or once synced
(`committed`)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class EventLog:
    def __init__(
        self,
        data_dir: Path,
        landing_dir: Path,
        *,
        segment_bytes: int,
        segment_seconds: float,
    ) -> None:
        self.wal_dir = data_dir / "wal"
        self.events_dir = landing_dir / "events"
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self.wal_dir.mkdir(parents=True, exist_ok=True)
        self.events_dir.mkdir(parents=True, exist_ok=True)
        id_file = self.wal_dir / "LOG_ID"
        if not id_file.exists():
            tmp = self.wal_dir / ".LOG_ID.tmp"
            tmp.write_text(secrets.token_hex(6))
            tmp.replace(id_file)
            _fsync_dir(self.wal_dir)
        self.log_id = id_file.read_text().strip()
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._fd = -1
        self._number = 0
        self._size = 0
        self._opened_at = 0.0
        self._failed: BaseException | None = None
        self.published = 0
        self.batches = 0
        self.events = 0
        self.sync_seconds = 0.0

    # -- start: recovery ------------------------------------------------------------------
    def segments(self) -> list[tuple[int, Path, bool]]:
        found = []
        for path in self.wal_dir.iterdir():
            match = SEGMENT_RE.match(path.name)
            if match:
                found.append((int(match.group(1)), path, match.group(2) is not None))
        return sorted(found)

    def recover(self, skip: Callable[[int], bool] | None = None) -> Iterator[tuple[int, bytes]]:
        """Cut torn tails, publish every unpublished segment, and yield (segment, line) for
        every segment n but those with `skip(n)` (what the published graph has ingested)."""
        for number, path, published in self.segments():
            if not published:
                self._cut_torn_tail(path)
                path = self._publish(number, path)
            self._number = max(self._number, number)
            if skip is None or not skip(number):
                with path.open("rb") as handle:
                    for line in handle:
                        yield number, line

    @staticmethod
    def _cut_torn_tail(path: Path) -> None:
        data = path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with path.open("r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())

    def landing_name(self, number: int) -> str:
        return f"service-{self.log_id}-{number:09d}.jsonl"

    def _publish(self, number: int, path: Path) -> Path:
        done = self.wal_dir / f"segment-{number:09d}.published.jsonl"
        if path.stat().st_size == 0:
            path.unlink()
            return done if done.exists() else path
        final = self.events_dir / self.landing_name(number)
        tmp = self.events_dir / f".{final.name}.tmp"
        with path.open("rb") as source, tmp.open("wb") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        tmp.replace(final)
        _fsync_dir(self.events_dir)
        path.replace(done)
        _fsync_dir(self.wal_dir)
        self.published += 1
        return done

    # -- running --------------------------------------------------------------------------
    def start(
        self, loop: asyncio.AbstractEventLoop, prepare: BatchHook, committed: BatchHook
    ) -> None:
        """Open a new segment and start the writer. `prepare(batch)` runs in the writer
        before the write; `committed(batch)` runs on `loop` after the sync."""
        self._open_segment()
        self._thread = threading.Thread(
            target=self._run, args=(loop, prepare, committed), name="event-log", daemon=True
        )
        self._thread.start()

    def submit(self, item: Pending) -> None:
        if self._failed is not None:
            raise RuntimeError("event log failed") from self._failed
        self._queue.put(item)

    def stop(self) -> None:
        """Commit what is queued, close and publish the open segment."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _open_segment(self) -> None:
        self._number += 1
        path = self.wal_dir / f"segment-{self._number:09d}.jsonl"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.wal_dir)
        self._size = 0
        self._opened_at = time.monotonic()

    def _close_segment(self) -> None:
        os.close(self._fd)
        self._fd = -1
        self._publish(self._number, self.wal_dir / f"segment-{self._number:09d}.jsonl")

    def _maybe_rotate(self) -> None:
        if self._size and (
            self._size >= self.segment_bytes
            or time.monotonic() - self._opened_at >= self.segment_seconds
        ):
            self._close_segment()
            self._open_segment()

    def _run(
        self, loop: asyncio.AbstractEventLoop, prepare: BatchHook, committed: BatchHook
    ) -> None:
        tick = min(1.0, self.segment_seconds / 4)
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=tick)
            except queue.Empty:
                self._rotate_safely()
                continue
            if first is None:
                break
            batch = [first]
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            if self._failed is None:
                try:
                    prepare(batch)
                    for item in batch:
                        item.segment = self._number
                    data = b"".join(item.line for item in batch)
                    started = time.perf_counter()
                    _write_all(self._fd, data)
                    os.fdatasync(self._fd)
                    self.sync_seconds += time.perf_counter() - started
                    self._size += len(data)
                    self.batches += 1
                    self.events += len(batch)
                except BaseException as exc:
                    self._failed = exc
            if self._failed is not None:
                loop.call_soon_threadsafe(_fail, batch)
                continue
            loop.call_soon_threadsafe(committed, batch)
            self._rotate_safely()
        if self._fd >= 0 and self._failed is None:
            self._close_segment()

    def _rotate_safely(self) -> None:
        if self._failed is None:
            try:
                self._maybe_rotate()
            except OSError as exc:
                self._failed = exc


def _fail(batch: list[Pending]) -> None:
    for item in batch:
        if item.future is not None and not item.future.done():
            item.future.set_exception(RuntimeError("event log write failed"))
