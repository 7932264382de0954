"""Which files a landing folder holds, and what their bytes are (sha256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from identity_pipeline.landing.readers import SUPPORTED_SUFFIXES


def list_landed_files(directory: Path) -> list[Path]:
    """CSV and Parquet files under `directory`, sorted; hidden (partial) files are skipped."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
