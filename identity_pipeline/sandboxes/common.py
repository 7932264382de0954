"""Pieces both sandboxes share: a movable clock, deterministic randomness, the serve loop."""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

CLOCK_PATH = "/_sandbox/clock"
"""Admin endpoint: GET shows the sandbox time; POST {"advance_days": n} moves it forward."""


@dataclass
class SandboxClock:
    """Wall-clock time plus an offset that tests move forward by whole days.

    Only ever moves forward, so a sandbox never sees time run backwards mid-test.
    """

    offset: timedelta = field(default_factory=timedelta)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self.offset

    def advance(self, days: float) -> datetime:
        if days < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self.offset += timedelta(days=days)
        return self.now()


def stable_int(*parts: object) -> int:
    """A 64-bit integer derived from the parts; identical across processes and runs.

    Python's hash() is salted per process, so sandboxes use this for every seeded decision.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def stable_fraction(*parts: object) -> float:
    """A deterministic number in [0, 1) derived from the parts."""
    return stable_int(*parts) / 2**64


class SandboxHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that carries the sandbox state for its handlers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(server: SandboxHTTPServer) -> None:
    """Announce readiness on stdout (callers wait for this line); serve until SIGINT/SIGTERM."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    print(f"listening on {server.base_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def start_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    """Serve from a background thread (tests and the demo); stop with server.shutdown()."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    return thread
