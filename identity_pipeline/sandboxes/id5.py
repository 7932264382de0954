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
import copy
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import re
import struct
import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar
from urllib.parse import SplitResult, parse_qs

from identity_pipeline.sandboxes.common import (
    BaseSandbox,
    SandboxHandler,
    SandboxService,
    run_cli,
    sandbox_parser,
    send_json,
    stable_fraction,
    stable_int,
    tally,
)

logger = logging.getLogger(__name__)

Json = dict[str, Any]
Reply = tuple[int, Json]

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


class _SignalsService(SandboxService[ID5SandboxConfig]):
    """The contract itself, free of HTTP plumbing: validation, lineage, rotation, stats."""

    def __init__(self, config: ID5SandboxConfig) -> None:
        super().__init__(config, FAULT_KINDS)
        self.codec = _UidCodec(config.seed)
        self._links: dict[str, int] = {}  # email_sha256 -> lineage pinned through known_uids
        self._stats = ID5SandboxStats()

    def begin(self) -> str | None:
        """Count a signals request and return its fault, seeded by the request's number."""
        with self._lock:
            self._stats.requests += 1
            number = self._stats.requests
        return self.fault(number)

    def end(self, status: int | None, fault: str | None) -> None:
        with self._lock:
            tally(self._stats.by_status, status)
            tally(self._stats.faults, fault)

    def stats(self) -> ID5SandboxStats:
        with self._lock:
            snapshot = copy.deepcopy(self._stats)
        flight = self.in_flight
        return dataclasses.replace(snapshot, concurrent=flight.current, max_concurrent=flight.most)

    def stats_json(self) -> Json:
        return self.stats().as_json()

    def allow(self, concurrent: int) -> bool:
        """False when the rate limit, or reject_parallel with another request in flight, refuses."""
        if self.config.reject_parallel and concurrent > 1:
            return False
        return self.take_token()

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
        self._service = _SignalsService(config or ID5SandboxConfig())

    def epoch(self, email_sha256: str, unix_days: float) -> int:
        """Rotation period number; the uid changes exactly when this does."""
        service = self._service
        return service._epoch(service._lineage(email_sha256.lower(), None), unix_days)

    def uid(self, email_sha256: str, unix_days: float) -> str:
        return self._service.uid_for(email_sha256.lower(), None, unix_days)


class _Handler(SandboxHandler[_SignalsService]):
    """Routes requests; logs only method, path (never the token query) and status."""

    logger = logger  # the module logger, so log levels set on this module apply
    not_found_body: ClassVar[Json] = _fail(404, "not_found", "No such endpoint")[1]

    def post(self, url: SplitResult) -> None:
        body = self._read_body()
        if body is None:
            return
        match = _SIGNALS_PATH.fullmatch(url.path)
        if match is None:
            self.not_found()
            return
        token = parse_qs(url.query).get("token", [""])[0]
        service = self.state
        with service.in_flight.track() as concurrent:
            fault = service.begin()
            reply = self._signals(match.group(1), token, body, fault, concurrent)
        # Counted before the client can see the answer, so stats read right after a call
        # already include it (as the UID2 sandbox does).
        service.end(None if reply is None else reply[0], fault)
        if reply is None:
            self.drop_connection()
        else:
            send_json(self, *reply)

    def _signals(
        self, partner: str, token: str, body: bytes, fault: str | None, concurrent: int
    ) -> Reply | None:
        """The reply to a signals call; None means hang up (the "drop" fault)."""
        service = self.state
        time.sleep(service.config.latency_ms / 1000)
        if fault == "drop":
            return None
        if fault == "slow":
            time.sleep(service.config.slow_reply_seconds)
        elif fault is not None:
            return _FAULT_REPLIES[fault]
        if not service.allow(concurrent):
            return _fail(429, "rate_limit_error", "Too many requests", "rate_limit_error")
        return service.answer(partner, token, body)

    def _send(self, reply: Reply) -> int:
        send_json(self, *reply)
        return reply[0]

    def _read_body(self) -> bytes | None:
        length = self.content_length()
        if not 0 <= length <= _MAX_BODY_BYTES:
            self.close_connection = True
            self._send(_fail(400, "request_format_invalid", "Invalid or oversized Content-Length"))
            return None
        return self.rfile.read(length)

    def post_clock(self) -> None:
        body = self._read_body()
        if body is not None:
            self._advance_clock(body)

    def _advance_clock(self, body: bytes) -> None:
        try:
            now = self.state.clock.advance(float(json.loads(body)["advance_days"]))
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError):
            message = 'Expected {"advance_days": n} with n >= 0'
            self._send(_fail(400, "request_format_invalid", message))
            return
        send_json(self, 200, {"now": now.isoformat()})


class ID5Sandbox(BaseSandbox[_SignalsService, ID5SandboxStats]):
    """A running sandbox: binds its port on construction, serves from a thread after start()."""

    def __init__(
        self, config: ID5SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config if config is not None else ID5SandboxConfig()
        self._service = _SignalsService(self.config)
        super().__init__(self._service, _Handler, host, port)

    @property
    def signals_url(self) -> str:
        """The endpoint for the configured partner, without the token query."""
        return f"{self.base_url}/partners/v1/{self.config.partner}/signals"


def _parser() -> argparse.ArgumentParser:
    defaults = ID5SandboxConfig()
    parser = sandbox_parser(
        "identity-pipeline sandbox id5",
        "Serve a local ID5 Partner Signals sandbox.",
        defaults,
    )
    parser.add_argument(
        "--partner", type=int, default=defaults.partner, help="partner number clients must use"
    )
    parser.add_argument("--token", default=defaults.token, help="API token clients must send")
    parser.add_argument(
        "--rotation-days",
        type=float,
        default=defaults.rotation_days,
        help="sandbox days after which a person's ID5 ID rotates; 0 never",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry: serve until SIGINT/SIGTERM, after printing ``listening on URL``."""
    return run_cli(_parser(), argv, ID5SandboxConfig, ID5Sandbox, "id5-sandbox")


if __name__ == "__main__":
    raise SystemExit(main())
