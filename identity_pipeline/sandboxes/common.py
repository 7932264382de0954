"""Pieces both sandboxes share: a movable clock, deterministic randomness, seeded faults, rate
limiting and traffic counters, the admin GET endpoints, the serve loop and the CLI plumbing.

Each sandbox module keeps only its own wire contract; everything a fake service needs to be a
reproducible, observable HTTP server lives here so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar
from urllib.parse import SplitResult, urlsplit

from identity_pipeline.cli_help import HelpFormatter

CLOCK_PATH = "/_sandbox/clock"
"""Admin endpoint: GET shows the sandbox time; POST {"advance_days": n} moves it forward."""

STATS_PATH = "/_sandbox/stats"
"""Admin endpoint: GET shows what the API endpoints saw (the sandbox's stats as JSON)."""


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


def seeded_fault(seed: int, rate: float, number: int, kinds: Sequence[str]) -> str | None:
    """The fault (one of `kinds`) for the request numbered `number`, or None.

    A fixed sequence per seed, so a run that failed on an injected fault fails the same way again.
    """
    if stable_fraction(seed, "fault", number) >= rate:
        return None
    return kinds[stable_int(seed, "fault-kind", number) % len(kinds)]


class TokenBucket:
    """Allows ``rate`` requests per second with a burst of max(1, rate)."""

    def __init__(self, rate: float) -> None:
        self._rate, self._capacity = rate, max(1.0, rate)
        self._tokens, self._last = self._capacity, time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """False means this request is over the rate limit."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class InFlight:
    """Requests being answered right now and the most ever at once.

    Tests read the maximum to prove how parallel a client really was.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.most = 0

    @contextmanager
    def track(self) -> Iterator[int]:
        """Count one request as in flight; yields how many are in flight including it."""
        with self._lock:
            self.current += 1
            self.most = max(self.most, self.current)
            concurrent = self.current
        try:
            yield concurrent
        finally:
            with self._lock:
                self.current -= 1


K = TypeVar("K")


def tally(counts: dict[K, int], key: K | None) -> None:
    """Add one to ``counts[key]``; None (a dropped connection has no status) counts nothing."""
    if key is not None:
        counts[key] = counts.get(key, 0) + 1


StatsT = TypeVar("StatsT")
StatsT_co = TypeVar("StatsT_co", covariant=True)


class SandboxState(Protocol[StatsT_co]):
    """What the shared handler and lifecycle need from a sandbox's state object."""

    @property
    def clock(self) -> SandboxClock: ...

    def stats(self) -> StatsT_co: ...

    def stats_json(self) -> dict[str, Any]: ...


StateT = TypeVar("StateT", bound=SandboxState[Any])


class SandboxHTTPServer(ThreadingHTTPServer, Generic[StateT]):
    """Threaded HTTP server that carries the sandbox state for its handlers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], state: StateT
    ) -> None:
        super().__init__(address, handler)
        self.state = state

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def send_body(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    send_body(handler, status, json.dumps(payload).encode(), "application/json")


class SandboxHandler(BaseHTTPRequestHandler, Generic[StateT]):
    """Admin GETs (clock, stats), dropped connections and quiet logging, for both sandboxes.

    Subclasses set ``logger`` and ``not_found_body`` and implement ``post`` for their API.
    """

    server: SandboxHTTPServer[StateT]
    logger: ClassVar[logging.Logger] = logging.getLogger(__name__)
    not_found_body: ClassVar[dict[str, Any]] = {}
    """The JSON answered with 404 for an unknown endpoint, in the service's own error shape."""

    @property
    def state(self) -> StateT:
        return self.server.state

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: queries (ID5 tokens) and bodies (identities) stay out.
        # getattr: a malformed request line is answered before command and path exist.
        path = urlsplit(getattr(self, "path", "")).path
        code = getattr(code, "value", code)
        self.logger.info("%s %s %s", getattr(self, "command", None), path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # args can echo the raw request line, token included, so only the template is logged.
        self.logger.debug("http.server: %s", format)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == CLOCK_PATH:
            send_json(self, 200, {"now": self.state.clock.now().isoformat()})
        elif path == STATS_PATH:
            send_json(self, 200, self.state.stats_json())
        else:
            self.not_found()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path == CLOCK_PATH:
            self.post_clock()
        else:
            self.post(url)

    def post(self, url: SplitResult) -> None:
        """Answer a POST: the sandbox's API and its other admin writes."""
        raise NotImplementedError

    def post_clock(self) -> None:
        """Answer POST CLOCK_PATH, {"advance_days": n}: move the sandbox clock forward."""
        raise NotImplementedError

    def not_found(self) -> None:
        send_json(self, 404, self.not_found_body)

    def content_length(self) -> int:
        """The declared body length; -1 when the header is not a number."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return -1

    def drop_connection(self) -> None:
        """Hang up without answering, as a failing load balancer would (the "drop" fault)."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class BaseSandbox(Generic[StateT, StatsT]):
    """A sandbox on its own port: binds on construction, serves from a thread after start()."""

    def __init__(
        self, state: StateT, handler: type[SandboxHandler[StateT]], host: str, port: int
    ) -> None:
        self.clock = state.clock
        self._stats: Callable[[], StatsT] = state.stats
        self.server = SandboxHTTPServer((host, port), handler, state)
        self.base_url = self.server.base_url
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = start_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance_days(self, days: float) -> None:
        self.clock.advance(days)

    @property
    def stats(self) -> StatsT:
        """A snapshot copy of the traffic counters; later traffic does not change it."""
        return self._stats()


class TrafficDefaults(Protocol):
    """The config fields behind the options both CLIs share."""

    @property
    def fault_rate(self) -> float: ...

    @property
    def seed(self) -> int: ...

    @property
    def latency_ms(self) -> float: ...


class TrafficConfig(TrafficDefaults, Protocol):
    """The config fields behind a sandbox's opt-in misbehaviour."""

    @property
    def rate_limit_rps(self) -> float | None: ...


TrafficConfigT = TypeVar("TrafficConfigT", bound=TrafficConfig)


class SandboxService(Generic[TrafficConfigT]):
    """What every sandbox's state starts from: its config, its own movable clock, one lock for
    its counters, and the opt-in misbehaviour in front of its API (seeded faults, a rate limit,
    the count of requests in flight)."""

    def __init__(self, config: TrafficConfigT, fault_kinds: Sequence[str]) -> None:
        self.config = config
        self.clock = SandboxClock()
        self.in_flight = InFlight()
        self._lock = threading.Lock()
        self._fault_kinds = fault_kinds
        rps = config.rate_limit_rps
        self._bucket = TokenBucket(rps) if rps is not None else None

    def fault(self, number: int) -> str | None:
        """The injected fault (one of the fault kinds) for the API request numbered `number`."""
        return seeded_fault(self.config.seed, self.config.fault_rate, number, self._fault_kinds)

    def take_token(self) -> bool:
        """False means this request is over the rate limit."""
        return self._bucket is None or self._bucket.take()


def sandbox_parser(
    prog: str, description: str, defaults: TrafficDefaults
) -> argparse.ArgumentParser:
    """The options both CLIs share; their dests are config field names (run_cli relies on it).
    Help shows every option's default."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=HelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=defaults.fault_rate,
        help="share of API requests (0-1) answered with an injected fault: 429, 500, 503, a "
        "dropped connection or a slow reply",
    )
    parser.add_argument(
        "--rate-limit",
        dest="rate_limit_rps",
        type=float,
        metavar="RPS",
        default=None,
        help="answer 429 above this many requests per second (default: no limit)",
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="same seed, same answers and faults"
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=defaults.latency_ms,
        help="milliseconds added to every API request",
    )
    parser.add_argument(
        "--reject-parallel",
        action="store_true",
        help="answer 429 to a request that arrives while another is in flight",
    )
    return parser


CLIENT_SETTINGS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "uid2-sandbox": (
        ("UID2_BASE_URL", None),
        ("UID2_API_KEY", "api_key"),
        ("UID2_SECRET_KEY", "secret"),
    ),
    "id5-sandbox": (("ID5_BASE_URL", None), ("ID5_PARTNER_ID", "partner"), ("ID5_TOKEN", "token")),
}
"""Per sandbox (by log name): the environment variables a client of it needs and the config
field each comes from (None: the sandbox's URL). These are public sandbox values, printed at
start so a user can copy them; real credentials are never printed anywhere."""


def client_settings(log_name: str, base_url: str, config: object) -> dict[str, str]:
    """The environment a client needs to talk to this sandbox, e.g. UID2_BASE_URL=..."""
    return {
        variable: base_url if field_name is None else str(getattr(config, field_name))
        for variable, field_name in CLIENT_SETTINGS.get(log_name, ())
    }


ConfigT = TypeVar("ConfigT")


def run_cli(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    make_config: Callable[..., ConfigT],
    make_sandbox: Callable[[ConfigT, str, int], BaseSandbox[Any, Any]],
    log_name: str,
) -> int:
    """Parse, build the config (a bad value is a usage error), then serve until interrupted."""
    options = vars(parser.parse_args(argv))
    host, port = options.pop("host"), options.pop("port")
    try:
        config = make_config(**options)  # the remaining dests are the config's field names
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {log_name} %(message)s")
    server = make_sandbox(config, host, port).server
    serve_forever(server, client_settings(log_name, server.base_url, config))
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(server: SandboxHTTPServer[Any], settings: dict[str, str] | None = None) -> None:
    """Announce readiness on stdout (callers wait for this line) and, on the next line, the
    client settings as a shell `export`; serve until SIGINT/SIGTERM."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    print(f"listening on {server.base_url}", flush=True)
    if settings:
        assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in settings.items())
        print(f"client settings (sandbox values, not secrets): export {assignments}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def start_in_thread(server: SandboxHTTPServer[Any]) -> threading.Thread:
    """Serve from a background thread (tests and the demo); stop with server.shutdown()."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    return thread
