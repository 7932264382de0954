"""Which landed files are new or changed since a sensor's cursor, without opening DuckDB.

Sensors run in the daemon beside runs; reading the warehouse there would contend for the
DuckDB file lock, so they look at file size and mtime only. A file modified in the last
`settle_seconds` is left for the next tick, so a file still being copied in is not half-read.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from identity_pipeline.contacts.ingest import list_landed_files


def changed_files(
    directory: Path, cursor: str | None, settle_seconds: float = 2.0
) -> tuple[list[str], str]:
    """(relative paths new or changed since `cursor`, the cursor to store)."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    changed: list[str] = []
    now = time.time()
    for path in list_landed_files(directory):
        info = path.stat()
        if now - info.st_mtime < settle_seconds:
            continue
        rel = path.relative_to(directory).as_posix()
        stamp = f"{info.st_size}:{info.st_mtime_ns}"
        if seen.get(rel) != stamp:
            changed.append(rel)
            seen[rel] = stamp
    return changed, json.dumps(seen, sort_keys=True)


def run_key(prefix: str, cursor: str) -> str:
    """Same files in the same state → same key, so Dagster never launches a duplicate run."""
    return f"{prefix}:{hashlib.sha256(cursor.encode()).hexdigest()[:16]}"
