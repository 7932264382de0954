"""Which landed files are new or changed since a sensor's cursor, without opening DuckDB.

Sensors run in the daemon beside runs; reading the warehouse there would contend for the
DuckDB file lock, so they look at file size and mtime only. A file modified in the last
`settle_seconds` is left for the next tick, so a file still being copied in is not half-read.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from identity_pipeline.landing.files import list_landed_files
from identity_pipeline.landing.readers import SUPPORTED_SUFFIXES

SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class SettledFile:
    path: Path
    rel: str
    """Path relative to the watched folder, with forward slashes."""
    stamp: str
    """Size and mtime: a different stamp means the file changed."""


def settled_files(
    directory: Path,
    settle_seconds: float = SETTLE_SECONDS,
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
) -> list[SettledFile]:
    """Landed files under `directory` (ending in `suffixes`) not modified in the last
    `settle_seconds`."""
    found = []
    now = time.time()
    for path in list_landed_files(directory, suffixes):
        info = path.stat()
        if now - info.st_mtime < settle_seconds:
            continue
        rel = path.relative_to(directory).as_posix()
        found.append(SettledFile(path, rel, f"{info.st_size}:{info.st_mtime_ns}"))
    return found


def changed_files(
    directory: Path,
    cursor: str | None,
    settle_seconds: float = SETTLE_SECONDS,
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
) -> tuple[list[str], str]:
    """(relative paths new or changed since `cursor`, the cursor to store). For the events
    folder pass `suffixes=EVENT_SUFFIXES` (landing.readers)."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    changed: list[str] = []
    for file in settled_files(directory, settle_seconds, suffixes):
        if seen.get(file.rel) != file.stamp:
            changed.append(file.rel)
            seen[file.rel] = file.stamp
    return changed, json.dumps(seen, sort_keys=True)


def run_key(prefix: str, cursor: str) -> str:
    """Same files in the same state → same key, so Dagster never launches a duplicate run."""
    return f"{prefix}:{hashlib.sha256(cursor.encode()).hexdigest()[:16]}"
