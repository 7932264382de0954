"""The identity service as a user runs it: `identity-pipeline serve --port 0` in its own
process, configured by environment variables; helpers to call it and to ingest what it
published the way the pipeline does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import requests

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
TOKENS = "writer-token:read+write,reader-token:read,only-writer:write"
WRITER = TOKENS.split(":", 1)[0]


@dataclass
class Service:
    url: str
    process: subprocess.Popen[str]
    root: Path

    def post(self, body: Any, token: str | None = WRITER, **kw: Any) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if not isinstance(body, dict):
            return requests.post(
                f"{self.url}/api/v1/identifier", data=body, headers=headers, timeout=10, **kw
            )
        return requests.post(
            f"{self.url}/api/v1/identifier", json=body, headers=headers, timeout=10, **kw
        )

    def landing_events(self) -> list[Path]:
        return sorted((self.root / "landing" / "events").glob("*.jsonl"))


def service_env(root: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.update(
        IDENTITY_SERVICE_TOKENS=TOKENS,
        IDENTITY_SERVICE_DATA=str(root / "service"),
        IDENTITY_SERVICE_GRAPH=str(root / "graph"),
        IDENTITY_PIPELINE_LANDING=str(root / "landing"),
        IDENTITY_SERVICE_RATE_LIMIT="100000",
    )
    env.update(overrides)
    return env


def start(root: Path, **overrides: str) -> Service:
    process = subprocess.Popen(
        [sys.executable, "-m", "identity_pipeline.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=(root / "service.log").open("a"),
        text=True,
        env=service_env(root, **overrides),
    )
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            process.wait()
            raise RuntimeError(f"serve exited: {(root / 'service.log').read_text()[-2000:]}")
        if found := _LISTENING.search(line):
            return Service(found.group(1), process, root)


def stop(service: Service, sig: int = signal.SIGTERM) -> int:
    service.process.send_signal(sig)
    try:
        code = service.process.wait(timeout=20)
    finally:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
        if service.process.stdout is not None:
            service.process.stdout.close()
    return code


@contextmanager
def running(root: Path, **overrides: str) -> Iterator[Service]:
    service = start(root, **overrides)
    try:
        yield service
    finally:
        if service.process.poll() is None:
            stop(service)


def ingest_landing_events(con: duckdb.DuckDBPyConnection, landing: Path, table: str) -> int:
    """Table `table` (the identity graph's EVENT_COLUMNS plus platform) from every JSON Lines
    file in landing/events/, as the pipeline's events ingestion reads them."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT event_id, CAST(created_at AS TIMESTAMP) AS created_at, platform, anonymous_id,
            email, phone, fbclid, gclid, gaclid
        FROM read_json($glob, format = 'newline_delimited', columns = {{
            event_id: 'VARCHAR', created_at: 'VARCHAR', platform: 'VARCHAR',
            anonymous_id: 'VARCHAR', email: 'VARCHAR', phone: 'VARCHAR', fbclid: 'VARCHAR',
            gclid: 'VARCHAR', gaclid: 'VARCHAR'}})
        """,
        {"glob": str(landing / "events" / "*.jsonl")},
    )
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
