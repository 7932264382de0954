"""Local ID5 Partner Signals sandbox: the seed-004 wire contract over real HTTP on 127.0.0.1.

Answers are deterministic per seed so tests and the demo can compare runs, yet behave like the
live service where the pipeline must cope: uids look encrypted, rotate per person every
``rotation_days`` of sandbox time, honour ``known_uids`` and can fail on purpose (``fault_rate``).
Latency and the refusal of overlapping calls (``reject_parallel``) are opt-in, as in the UID2
sandbox, so tests can prove that only one request at a time reaches ID5.

Divergences from the live API, chosen so pipeline bugs surface early: ``email_sha256`` must be
64 hex characters (not just 64 characters), and an unknown or non-numeric partner id answers
400 ``partner_id_invalid`` after the token has been checked.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import hmac
import json
import logging
import math
import re
import socket
import struct
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from identity_pipeline.sandboxes.common import (
    CLOCK_PATH,
    SandboxClock,
    SandboxHTTPServer,
    send_json,
    serve_forever,
    stable_fraction,
    stable_int,
    start_in_thread,
)

logger = logging.getLogger(__name__)

Json = dict[str, Any]
Reply = tuple[int, Json]

STATS_PATH = "/_sandbox/stats"
UID_PREFIX = "ID5*"
FAULT_KINDS = ("429", "500", "503", "drop", "slow")
_SIGNALS_PATH = re.compile(r"/partners/v1/([^/]*)/signals/?")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_ALPHA2 = re.compile(r"[A-Za-z]{2}")
_MAX_BODY_BYTES = 32 * 1024 * 1024
# uid plaintext: format version, lineage, rotation epoch, partner.
_PAYLOAD = struct.Struct(">BQqQ")
_UID_VERSION = 1
_NONCE_LEN, _TAG_LEN = 8, 24


def _error(code: str, message: str, kind: str) -> Json:
    return {"code": code, "message": message, "type": kind}


def _fail(status: int, code: str, message: str, kind: str = "invalid_request_error") -> Reply:
    """A whole-request error: the HTTP status and seed 004's top-level ``error`` object."""
    return status, {"error": _error(code, message, kind)}


_FAULT_REPLIES: dict[str, Reply] = {
    "429": _fail(429, "rate_limit_error", "Too many requests (sandbox fault)", "rate_limit_error"),
    "500": _fail(500, "internal_error", "Internal server error (sandbox fault)", "api_error"),
    "503": _fail(503, "service_unavailable", "Service unavailable (sandbox fault)", "api_error"),
}


@dataclass(frozen=True)
class ID5SandboxConfig:
    """How the sandbox behaves; the defaults match seed 004's test partner 173.

    ``rotation_days <= 0`` turns uid rotation off. ``slow_reply_seconds`` is how long a "slow"
    fault stalls before answering normally (tests shorten it). ``latency_ms`` delays every
    signals request; with ``reject_parallel`` a request that arrives while another is in flight
    answers 429 ``rate_limit_error``.
    """

    partner: int = 173
    token: str = "sandbox-id5-token"  # noqa: S105 - public sandbox value, not a secret
    fault_rate: float = 0.0
    rotation_days: float = 30.0
    seed: int = 2024
    rate_limit_rps: float | None = None
    max_users: int = 1000
    slow_reply_seconds: float = 2.0
    latency_ms: float = 0.0
    reject_parallel: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.slow_reply_seconds < 0:
            raise ValueError("delays cannot be negative")
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ValueError("rate_limit_rps must be positive")
        if self.max_users < 1:
            raise ValueError("max_users must be at least 1")


@dataclass
class ID5SandboxStats:
    """Counters for tests. ``requests``/``by_status`` cover the signals endpoint only."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    users_received: int = 0
    concurrent: int = 0
    max_concurrent: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> Json:
        return asdict(self)  # json.dumps turns the integer status keys into strings


class _UidCodec:
    """Seals (lineage, epoch, partner) into an opaque uid that only the same seed can open.

    Stdlib only: an HMAC-SHA256 keystream encrypts the payload and a truncated HMAC tag
    authenticates it, so garbled or foreign uids are rejected rather than misread.
    """

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"id5-sandbox-uid\x1f{seed}".encode()).digest()

    def _mac(self, label: bytes, data: bytes) -> bytes:
        return hmac.new(self._key, label + data, hashlib.sha256).digest()

    def _xor(self, nonce: bytes, data: bytes) -> bytes:
        return bytes(a ^ b for a, b in zip(data, self._mac(b"ks", nonce), strict=False))

    def seal(self, lineage: int, epoch: int, partner: int) -> str:
        # A deterministic nonce keeps answers reproducible per seed while still differing per epoch.
        nonce = stable_int(self._key.hex(), lineage, epoch, partner).to_bytes(_NONCE_LEN, "big")
        cipher = self._xor(nonce, _PAYLOAD.pack(_UID_VERSION, lineage, epoch, partner))
        tag = self._mac(b"tag", nonce + cipher)[:_TAG_LEN]
        return UID_PREFIX + base64.urlsafe_b64encode(nonce + cipher + tag).decode().rstrip("=")

    def lineage_of(self, uid: object) -> int | None:
        """The lineage sealed inside ``uid``, or None when it is not one of ours."""
        if not isinstance(uid, str) or not uid.startswith(UID_PREFIX):
            return None
        text = uid[len(UID_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            return None
        if len(raw) != _NONCE_LEN + _PAYLOAD.size + _TAG_LEN:
            return None
        nonce, cipher, tag = raw[:_NONCE_LEN], raw[_NONCE_LEN:-_TAG_LEN], raw[-_TAG_LEN:]
        if not hmac.compare_digest(tag, self._mac(b"tag", nonce + cipher)[:_TAG_LEN]):
            return None
        version, lineage, _epoch, _partner = _PAYLOAD.unpack(self._xor(nonce, cipher))
        return int(lineage) if version == _UID_VERSION else None


class _TokenBucket:
    """Allows ``rate`` requests per second with a burst of max(1, rate)."""

    def __init__(self, rate: float) -> None:
        self._rate, self._capacity = rate, max(1.0, rate)
        self._tokens, self._last = self._capacity, time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class _SignalsService:
    """The contract itself, free of HTTP plumbing: validation, lineage, rotation, stats."""

    def __init__(self, config: ID5SandboxConfig, clock: SandboxClock) -> None:
        self.config, self.clock = config, clock
        self.codec = _UidCodec(config.seed)
        self._lock = threading.Lock()
        self._links: dict[str, int] = {}  # email_sha256 -> lineage pinned through known_uids
        self._stats = ID5SandboxStats()
        rps = config.rate_limit_rps
        self._bucket = _TokenBucket(rps) if rps is not None else None

    def begin(self) -> tuple[str | None, int]:
        """Count a signals request; its fault (seeded by the request's number) and how many
        signals requests are in flight including this one."""
        with self._lock:
            s = self._stats
            s.requests += 1
            s.concurrent += 1
            s.max_concurrent = max(s.max_concurrent, s.concurrent)
            number, concurrent = s.requests, s.concurrent
        if stable_fraction(self.config.seed, "fault", number) >= self.config.fault_rate:
            return None, concurrent
        kind = FAULT_KINDS[stable_int(self.config.seed, "fault-kind", number) % len(FAULT_KINDS)]
        return kind, concurrent

    def end(self, status: int | None, fault: str | None) -> None:
        with self._lock:
            s = self._stats
            s.concurrent -= 1
            if status is not None:
                s.by_status[status] = s.by_status.get(status, 0) + 1
            if fault is not None:
                s.faults[fault] = s.faults.get(fault, 0) + 1

    def stats(self) -> ID5SandboxStats:
        with self._lock:
            return copy.deepcopy(self._stats)

    def allow(self, concurrent: int) -> bool:
        """False when the rate limit, or reject_parallel with another request in flight, refuses."""
        if self.config.reject_parallel and concurrent > 1:
            return False
        return self._bucket is None or self._bucket.take()

    def answer(self, partner: str, token: str, body: bytes) -> Reply:
        cfg = self.config
        if not token:
            return _fail(401, "api_token_invalid", "No API token supplied", "authentication_error")
        if not hmac.compare_digest(token.encode(), cfg.token.encode()):
            message = "The API token is not authorized for this method"
            return _fail(403, "api_token_not_authorized", message, "authentication_error")
        if not partner.isdigit() or int(partner) != cfg.partner:
            return _fail(400, "partner_id_invalid", f"Unknown partner id {partner!r}")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            document = None
        if not isinstance(document, dict):
            return _fail(400, "request_format_invalid", "The body is not a JSON object")
        users = document.get("users")
        if not isinstance(users, list) or not 1 <= len(users) <= cfg.max_users:
            message = f"Expected 1 to {cfg.max_users} user objects in 'users'"
            return _fail(400, "user_objects_invalid", message)
        if not all(isinstance(user, dict) for user in users):
            return _fail(400, "user_objects_invalid", "Every user must be a JSON object")
        with self._lock:
            self._stats.users_received += len(users)
        days = self.clock.now().timestamp() / 86400
        answers = [self._answer_user(user, days) for user in users]
        if all("error" in item for item in answers):
            message = "Rejected all user objects due to invalidation errors"
            status, payload = _fail(400, "user_objects_invalid", message, "validation_error")
            return status, {"users": answers, **payload}
        return 200, {"users": answers}

    def _answer_user(self, user: Json, days: float) -> Json:
        email, country = user.get("email_sha256"), user.get("country_alpha2")
        echo: Json = {"email_sha256": email, "country_alpha2": "AA" if country is None else country}
        if "partner_user_id" in user:
            echo["partner_user_id"] = user["partner_user_id"]
        if not isinstance(email, str) or not _HEX64.fullmatch(email):
            message = f"{email!r} does not conform to SHA-256"
            return {"error": _error("sha256_length_invalid", message, "validation_error"), **echo}
        if country is not None and not (isinstance(country, str) and _ALPHA2.fullmatch(country)):
            message = f"{country!r} does not conform to ISO 3166-1 alpha-2"
            return {"error": _error("country_alpha2_invalid", message, "validation_error"), **echo}
        return {"uid": self.uid_for(email.lower(), user.get("known_uids"), days), **echo}

    def uid_for(self, email: str, known_uids: object, days: float) -> str:
        """The uid for a lowercase email hash at `days` (Unix time in days)."""
        lineage = self._lineage(email, known_uids)
        return self.codec.seal(lineage, self._epoch(lineage, days), self.config.partner)

    def _lineage(self, email: str, known_uids: object) -> int:
        """The first known uid we can open pins the email to its lineage, for good."""
        with self._lock:
            pinned = self._links.get(email)
            if pinned is not None:
                return pinned
            for item in known_uids if isinstance(known_uids, list) else []:
                known = self.codec.lineage_of(item.get("uid")) if isinstance(item, dict) else None
                if known is not None:
                    self._links[email] = known
                    return known
        return stable_int(self.config.seed, "lineage", email)

    def _epoch(self, lineage: int, days: float) -> int:
        """Rotation period number; the per-person phase stops everyone rotating at once."""
        if self.config.rotation_days <= 0:
            return 0
        phase = stable_fraction(self.config.seed, "phase", lineage)
        return math.floor(days / self.config.rotation_days + phase)


class ID5UidModel:
    """What the sandbox answers for an email hash at a moment, when no known_uids pin it.

    For generators and stand-in mappings that must agree with the sandbox without calling it;
    it runs the service's own lineage/rotation code, so the two cannot drift apart.
    """

    def __init__(self, config: ID5SandboxConfig | None = None) -> None:
        self._service = _SignalsService(config or ID5SandboxConfig(), SandboxClock())

    def epoch(self, email_sha256: str, unix_days: float) -> int:
        """Rotation period number; the uid changes exactly when this does."""
        service = self._service
        return service._epoch(service._lineage(email_sha256.lower(), None), unix_days)

    def uid(self, email_sha256: str, unix_days: float) -> str:
        return self._service.uid_for(email_sha256.lower(), None, unix_days)


class _ID5Server(SandboxHTTPServer):
    def __init__(self, address: tuple[str, int], service: _SignalsService) -> None:
        super().__init__(address, _Handler)
        self.service = service


class _Handler(BaseHTTPRequestHandler):
    """Routes requests; logs only method, path (never the token query) and status."""

    @property
    def _service(self) -> _SignalsService:
        return cast(_ID5Server, self.server).service

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "")).path
        logger.info("%s %s %s", getattr(self, "command", None), path, getattr(code, "value", code))

    def log_message(self, format: str, *args: Any) -> None:
        # args can echo the raw request line, token included, so only the template is logged.
        logger.debug("http.server: %s", format)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == CLOCK_PATH:
            send_json(self, 200, {"now": self._service.clock.now().isoformat()})
        elif path == STATS_PATH:
            send_json(self, 200, self._service.stats().as_json())
        else:
            self._not_found()

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        if parts.path == CLOCK_PATH:
            self._advance_clock(body)
            return
        match = _SIGNALS_PATH.fullmatch(parts.path)
        if match is None:
            self._not_found()
            return
        token = parse_qs(parts.query).get("token", [""])[0]
        fault, concurrent = self._service.begin()
        status: int | None = None
        try:
            status = self._signals(match.group(1), token, body, fault, concurrent)
        finally:
            self._service.end(status, fault)

    def _signals(
        self, partner: str, token: str, body: bytes, fault: str | None, concurrent: int
    ) -> int | None:
        service = self._service
        time.sleep(service.config.latency_ms / 1000)
        if fault == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault == "slow":
            time.sleep(service.config.slow_reply_seconds)
        elif fault is not None:
            return self._send(_FAULT_REPLIES[fault])
        if not service.allow(concurrent):
            return self._send(
                _fail(429, "rate_limit_error", "Too many requests", "rate_limit_error")
            )
        return self._send(service.answer(partner, token, body))

    def _send(self, reply: Reply) -> int:
        send_json(self, *reply)
        return reply[0]

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY_BYTES:
            self.close_connection = True
            self._send(_fail(400, "request_format_invalid", "Invalid or oversized Content-Length"))
            return None
        return self.rfile.read(length)

    def _advance_clock(self, body: bytes) -> None:
        try:
            now = self._service.clock.advance(float(json.loads(body)["advance_days"]))
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError):
            message = 'Expected {"advance_days": n} with n >= 0'
            self._send(_fail(400, "request_format_invalid", message))
            return
        send_json(self, 200, {"now": now.isoformat()})

    def _not_found(self) -> None:
        self._send(_fail(404, "not_found", "No such endpoint"))


class ID5Sandbox:
    """A running sandbox: binds its port on construction, serves from a thread after start()."""

    def __init__(
        self, config: ID5SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config if config is not None else ID5SandboxConfig()
        self.clock = SandboxClock()
        self._service = _SignalsService(self.config, self.clock)
        self.server = _ID5Server((host, port), self._service)
        self.base_url = self.server.base_url
        self._thread: threading.Thread | None = None

    @property
    def signals_url(self) -> str:
        """The endpoint for the configured partner, without the token query."""
        return f"{self.base_url}/partners/v1/{self.config.partner}/signals"

    @property
    def stats(self) -> ID5SandboxStats:
        """A snapshot copy of the counters."""
        return self._service.stats()

    def start(self) -> ID5Sandbox:
        if self._thread is None:
            self._thread = start_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()

    def advance_days(self, days: float) -> None:
        self.clock.advance(days)

    def __enter__(self) -> ID5Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    defaults = ID5SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="identity-pipeline sandbox id5",
        description="Serve a local ID5 Partner Signals sandbox.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--partner", type=int, default=defaults.partner)
    parser.add_argument("--token", default=defaults.token)
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate)
    parser.add_argument("--rotation-days", type=float, default=defaults.rotation_days)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--rate-limit", dest="rate_limit_rps", type=float, metavar="RPS")
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument(
        "--reject-parallel",
        action="store_true",
        help="answer 429 to a request that arrives while another is in flight",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry: serve until SIGINT/SIGTERM, after printing ``listening on URL``."""
    parser = _parser()
    args = vars(parser.parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    try:
        config = ID5SandboxConfig(**args)  # the remaining dests are the config's field names
    except ValueError as problem:
        parser.error(str(problem))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s id5-sandbox %(message)s")
    sandbox = ID5Sandbox(config, host, port)
    serve_forever(sandbox.server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
