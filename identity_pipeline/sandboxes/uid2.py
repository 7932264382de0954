"""A local UID2 operator: Identity Map v3 and v2, salt buckets, over real encrypted HTTP.

The official `uid2_client` SDK talks to it unmodified, so the pipeline, its tests and the demo
exercise the real wire contract (PROTOCOLS §1-3) without credentials. Answers are deterministic
from the seed and the sandbox clock; misbehaviour (latency, faults, rate limits, rejection of
parallel calls) is opt-in so client resilience can be proven.

Like the UID2 integration environment, it answers the documented test identities the same way
every time, whatever the opt-out rate or the opt-out list say: `optout@example.com` and
`+00000000000` are always opted out, `validate@example.com`, `refresh-optout@example.com`,
`+12345678901` and `+00000000002` are always mapped (raw or hashed, v3 or v2; an email's hash
sent as a phone hash is an ordinary identity, as at the operator, which matches on type too).
Client code checked against the real integration environment therefore passes here too.
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
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import SplitResult

from identity_pipeline.sandboxes.common import (
    BaseSandbox,
    SandboxHandler,
    SandboxService,
    run_cli,
    sandbox_parser,
    send_body,
    send_json,
    stable_fraction,
    stable_int,
    tally,
)
from identity_pipeline.sandboxes.uid2_envelope import (
    IDENTITY_KEYS,
    MAX_BODY_BYTES,
    ClientError,
    decode_secret,
    identity_arrays,
    identity_digest,
    open_request,
    parse_json,
    seal_response,
)

_LOG = logging.getLogger(__name__)

OPTOUTS_PATH = "/_sandbox/optouts"
_DISCARD_LIMIT = 64 << 20  # drain oversized bodies up to this so keep-alive clients see the 400
N_BUCKETS = 1 << 20
DAY_S = 86_400
YEAR_DAYS = 365
PREVIOUS_UID_DAYS = 90
FAULT_KINDS = ("status_429", "status_500", "status_503", "drop", "slow")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

OPTOUT_TEST_IDENTITIES = ("optout@example.com", "+00000000000")
"""The integration environment's identities that always come back `optout`."""
MAPPED_TEST_IDENTITIES = (
    "validate@example.com",
    "refresh-optout@example.com",
    "+12345678901",
    "+00000000002",
)
"""The integration environment's identities that are never opted out (the "validate" and
"refresh-optout" ones: the latter only opt out on a token refresh, which map calls never do)."""


def _test_identity_answers() -> dict[tuple[bytes, int], bool]:
    """(SHA-256 of the normalized identity, type code) -> always opted out (True) or never."""
    answers: dict[tuple[bytes, int], bool] = {}
    for optout, identities in ((True, OPTOUT_TEST_IDENTITIES), (False, MAPPED_TEST_IDENTITIES)):
        for value in identities:
            parsed = identity_digest("email" if "@" in value else "phone", value)
            if parsed is None:
                raise ValueError(f"test identity {value!r} is not a valid identity")
            answers[parsed] = optout
    return answers


_TEST_IDENTITY_ANSWERS = _test_identity_answers()


@dataclass
class UID2SandboxConfig:
    """How the sandbox operator behaves; every default is a well-behaved service."""

    api_key: str = "sandbox-api-key"
    secret: str = "ErWXkBDbwCWRkTmUF91ictAJiBwxPBzXcsA+BJ92k0s="  # noqa: S105 - public sandbox key
    optout_rate: float = 0.02
    latency_ms: float = 0
    fault_rate: float = 0
    rate_limit_rps: float | None = None
    reject_parallel: bool = False
    seed: int = 2024
    slow_reply_seconds: float = 3.0
    """How long the "slow" fault stalls before answering normally."""

    def __post_init__(self) -> None:
        decode_secret(self.secret)
        for name in ("optout_rate", "fault_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.slow_reply_seconds < 0:
            raise ValueError("delays cannot be negative")
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ValueError("rate limit must be positive")


@dataclass(frozen=True)
class Mapping:
    """One identity's answer: current and previous raw UID2, refresh time, salt bucket."""

    current: str
    previous: str | None
    refresh_from: int
    bucket: int


def bucket_id(bucket: int) -> str:
    """Short text id of a salt bucket (base62 of its number), like the operator's ids."""
    digits = ""
    while bucket:
        bucket, rest = divmod(bucket, 62)
        digits = _BASE62[rest] + digits
    return digits.rjust(4, "0")


class SaltModel:
    """Deterministic salt buckets: each rotates once a year, at midnight UTC, in its own phase.

    Buckets are laid out on a yearly schedule by a seeded permutation, so rotation k (bucket slot
    k mod N, epoch k div N) happens on day ceil(365·k/N). That makes "which buckets rotated in a
    window" a contiguous range of k, answered without scanning a million buckets.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._first_level_salt = hashlib.sha256(f"uid2-sandbox/first/{seed}".encode()).digest()
        self._mult = (stable_int(seed, "bucket-order") % N_BUCKETS) | 1
        self._mult_inv = pow(self._mult, -1, N_BUCKETS)
        self._offset = stable_int(seed, "bucket-phase") % N_BUCKETS

    def first_level(self, dii_hash: bytes) -> bytes:
        return hashlib.sha256(dii_hash + self._first_level_salt).digest()

    def bucket_of(self, first_level: bytes) -> int:
        return int.from_bytes(first_level[:8], "big") % N_BUCKETS

    def _slot(self, bucket: int) -> int:
        return (bucket * self._mult + self._offset) % N_BUCKETS

    def _bucket(self, slot: int) -> int:
        return ((slot - self._offset) * self._mult_inv) % N_BUCKETS

    @staticmethod
    def _rotation_day(k: int) -> int:
        return -((-YEAR_DAYS * k) // N_BUCKETS)

    @staticmethod
    def _last_k(day: int) -> int:
        """The largest rotation index whose day is at or before `day`."""
        return (day * N_BUCKETS) // YEAR_DAYS

    def raw_uid(self, first_level: bytes, bucket: int, epoch: int, identity_type: int) -> str:
        salt = hashlib.sha256(f"uid2-sandbox/salt/{self.seed}/{bucket}/{epoch}".encode()).digest()
        metadata = bytes([(identity_type << 2) | 3])
        return base64.b64encode(metadata + hashlib.sha256(first_level + salt).digest()).decode()

    def map(self, dii_hash: bytes, identity_type: int, now_s: float) -> Mapping:
        first_level = self.first_level(dii_hash)
        bucket = self.bucket_of(first_level)
        today = int(now_s // DAY_S)
        k_hi = self._last_k(today)
        k = k_hi - (k_hi - self._slot(bucket)) % N_BUCKETS
        epoch = k // N_BUCKETS
        previous = None
        if now_s - self._rotation_day(k) * DAY_S < PREVIOUS_UID_DAYS * DAY_S:
            previous = self.raw_uid(first_level, bucket, epoch - 1, identity_type)
        refresh = -((-YEAR_DAYS * DAY_S * (k + N_BUCKETS)) // N_BUCKETS)
        if refresh <= now_s:  # nominal refresh passed, salt rotates at the next midnight
            refresh = (today + 1) * DAY_S
        current = self.raw_uid(first_level, bucket, epoch, identity_type)
        return Mapping(current, previous, refresh, bucket)

    def rotated_since(self, since_s: float, now_s: float) -> Iterator[tuple[int, int]]:
        """(bucket, day of its latest rotation) for buckets rotated after since_s, up to now_s."""
        k_hi = self._last_k(int(now_s // DAY_S))
        k_lo = max(self._last_k(int(since_s // DAY_S)) + 1, k_hi - N_BUCKETS + 1)
        for k in range(k_lo, k_hi + 1):
            yield self._bucket(k % N_BUCKETS), self._rotation_day(k)


def seeded_optout(config: UID2SandboxConfig, dii_hash: str) -> bool:
    """Whether the sandbox answers 'optout' for this base64 hash by its seeded opt-out rate."""
    return stable_fraction(config.seed, "optout", dii_hash) < config.optout_rate


@lru_cache(maxsize=1024)
def _iso_day(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class UID2SandboxStats:
    """What the API endpoints saw, so tests can assert on client behaviour.

    Admin endpoints are not counted. `identifiers` counts those in accepted map requests;
    `faults` counts injected faults by kind (a dropped connection has no status).
    """

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_path: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    max_concurrent: int = 0
    identifiers: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"by_status": {str(k): v for k, v in sorted(self.by_status.items())}}


class _SandboxState(SandboxService[UID2SandboxConfig]):
    """Operator state shared by the handler threads; every mutation happens under one lock."""

    def __init__(self, config: UID2SandboxConfig) -> None:
        super().__init__(config, FAULT_KINDS)
        self.key = decode_secret(config.secret)
        self.model = SaltModel(config.seed)
        self._optouts: set[str] = set()
        self._stats = UID2SandboxStats()
        self._counter = 0

    def next_fault(self) -> str | None:
        """The fault for the next API request: a fixed sequence from the seed and a counter."""
        with self._lock:
            n, self._counter = self._counter, self._counter + 1
        return self.fault(n)

    def record(self, path: str, status: int | None, fault: str | None) -> None:
        with self._lock:
            s = self._stats
            s.requests += 1
            tally(s.by_path, path)
            tally(s.by_status, status)
            tally(s.faults, fault)

    def stats(self) -> UID2SandboxStats:
        with self._lock:
            snapshot = copy.deepcopy(self._stats)
        return dataclasses.replace(snapshot, max_concurrent=self.in_flight.most)

    def stats_json(self) -> dict[str, Any]:
        return self.stats().to_json()

    def add_optouts(self, hashes: Iterable[str]) -> int:
        added = list(hashes)
        with self._lock:
            self._optouts.update(added)
        return len(added)

    def _resolve(self, key: str, value: str, now_s: float) -> Mapping | str:
        """A Mapping, or the reason the identity is unmapped."""
        parsed = identity_digest(key, value)
        if parsed is None:
            return "invalid identifier"
        digest, identity_type = parsed
        optout = _TEST_IDENTITY_ANSWERS.get(parsed)  # a test identity's answer is fixed
        if optout is None:
            dii_hash = base64.b64encode(digest).decode()
            with self._lock:
                listed = dii_hash in self._optouts
            optout = listed or seeded_optout(self.config, dii_hash)
        if optout:
            return "optout"
        return self.model.map(digest, identity_type, now_s)

    def _arrays(self, payload: object) -> dict[str, list[str]]:
        arrays = identity_arrays(payload)
        with self._lock:
            self._stats.identifiers += sum(len(v) for v in arrays.values())
        return arrays

    def map_v3(self, payload: object) -> dict[str, Any]:
        arrays, now_s = self._arrays(payload), self.clock.now().timestamp()
        body: dict[str, list[dict[str, Any]]] = {key: [] for key in IDENTITY_KEYS}
        for key, values in arrays.items():
            for value in values:
                got = self._resolve(key, value, now_s)
                if isinstance(got, str):
                    body[key].append({"e": got})
                else:
                    body[key].append({"u": got.current, "p": got.previous, "r": got.refresh_from})
        return {"body": body, "status": "success"}

    def map_v2(self, payload: object) -> dict[str, Any]:
        arrays, now_s = self._arrays(payload), self.clock.now().timestamp()
        if len(arrays) != 1:
            raise ClientError("Exactly one of email, email_hash, phone, phone_hash is allowed")
        ((key, values),) = arrays.items()
        mapped: list[dict[str, str]] = []
        unmapped: list[dict[str, str]] = []
        for value in values:
            got = self._resolve(key, value, now_s)
            if isinstance(got, str):
                unmapped.append({"identifier": value, "reason": got})
            else:
                bid = bucket_id(got.bucket)
                mapped.append(
                    {"identifier": value, "advertising_id": got.current, "bucket_id": bid}
                )
        body: dict[str, Any] = {"mapped": mapped}
        if unmapped:
            body["unmapped"] = unmapped
        return {"body": body, "status": "success"}

    def buckets(self, payload: object) -> dict[str, Any]:
        since_text = payload.get("since_timestamp") if isinstance(payload, dict) else None
        if not isinstance(since_text, str):
            raise ClientError("Required parameter missing: since_timestamp")
        try:
            since = datetime.fromisoformat(since_text)
        except ValueError as exc:
            raise ClientError("since_timestamp must be YYYY-MM-DDThh:mm:ss") from exc
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        rotated = self.model.rotated_since(since.timestamp(), self.clock.now().timestamp())
        body = [{"bucket_id": bucket_id(b), "last_updated": _iso_day(day)} for b, day in rotated]
        return {"body": body, "status": "success"}


_ROUTES = {
    "/v3/identity/map": _SandboxState.map_v3,
    "/v2/identity/map": _SandboxState.map_v2,
    "/v2/identity/buckets": _SandboxState.buckets,
}


@dataclass(frozen=True)
class _Reply:
    status: int | None  # None: drop the connection without answering
    body: bytes = b""
    content_type: str = "application/json"


def _error(status: int, state: str, message: str) -> _Reply:
    return _Reply(status, json.dumps({"status": state, "message": message}).encode())


_FAULT_REPLIES = {
    "status_429": _Reply(429),
    "status_500": _error(500, "unknown", "Internal server error"),
    "status_503": _error(503, "unknown", "Service unavailable"),
    "drop": _Reply(None),
}


class _Handler(SandboxHandler[_SandboxState]):
    """Admin endpoints answer plainly; API endpoints go through faults, limits, auth, envelope."""

    protocol_version = "HTTP/1.1"
    server_version = "UID2Sandbox/1"
    timeout = 60  # idle keep-alive connections release their thread after this
    logger = _LOG
    not_found_body: ClassVar[dict[str, Any]] = {
        "status": "not_found",
        "message": "unknown endpoint",
    }

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries no secret here (the key is a header), so keep the details.
        self.logger.debug(format, *args)

    def post(self, url: SplitResult) -> None:
        path = url.path
        if path == OPTOUTS_PATH:
            self._admin(self._add_optouts)
            return
        state = self.state
        with state.in_flight.track() as concurrent:
            fault = state.next_fault()
            reply = self._api(path, concurrent, fault)
        state.record(path, reply.status, fault)
        if reply.status is None:
            self.drop_connection()
            return
        send_body(self, reply.status, reply.body, reply.content_type)

    def _read_body(self) -> bytes | None:
        """The request body, or None if it is over the 1 MB limit (drained, not kept)."""
        length = self.content_length()
        if length < 0:
            self.close_connection = True
            return b""
        if length <= MAX_BODY_BYTES:
            return self.rfile.read(length)
        if length > _DISCARD_LIMIT:
            self.close_connection = True
            return None
        while length > 0 and (chunk := self.rfile.read(min(length, 1 << 16))):
            length -= len(chunk)
        return None

    def _api(self, path: str, concurrent: int, fault: str | None) -> _Reply:
        """Answer an API call the way the operator (and the network in front of it) would."""
        state, config = self.state, self.state.config
        body = self._read_body()
        time.sleep(config.latency_ms / 1000)
        if fault == "slow":
            time.sleep(config.slow_reply_seconds)
        elif fault is not None:
            return _FAULT_REPLIES[fault]
        if not state.take_token() or (config.reject_parallel and concurrent > 1):
            return _Reply(429)
        route = _ROUTES.get(path)
        if route is None:
            return _error(404, "not_found", "unknown endpoint")
        expected = f"Bearer {config.api_key}".encode()
        if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected):
            return _error(401, "unauthorized", "invalid or missing API key")
        if body is None:
            return _error(400, "client_error", f"request body over {MAX_BODY_BYTES} bytes")
        try:
            opened = open_request(state.key, body, self.headers.get("Content-Type"))
            answer = route(state, parse_json(opened.payload))
        except ClientError as exc:
            return _error(400, "client_error", str(exc))
        sealed = seal_response(state.key, opened.nonce, json.dumps(answer).encode(), opened.binary)
        media = "application/octet-stream" if opened.binary else "text/plain"
        return _Reply(200, sealed, media)

    def post_clock(self) -> None:
        self._admin(self._advance_clock)

    def _advance_clock(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = self.state.clock.advance(float(payload.get("advance_days", 0)))
        return {"now": now.isoformat()}

    def _add_optouts(self, payload: dict[str, Any]) -> dict[str, Any]:
        hashes = [*payload.get("email_hash", []), *payload.get("phone_hash", [])]
        if not all(isinstance(h, str) for h in hashes):
            raise ValueError("hashes must be strings")
        return {"status": "success", "added": self.state.add_optouts(hashes)}

    def _admin(self, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Clock and opt-out control for tests and demos: no auth, no envelope, no faults."""
        body = self._read_body()
        try:
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise TypeError("expected a JSON object")
            reply = answer(payload)
        except (ValueError, TypeError, OverflowError) as exc:
            send_json(self, 400, {"status": "client_error", "message": str(exc)})
            return
        send_json(self, 200, reply)


class UID2Sandbox(BaseSandbox[_SandboxState, UID2SandboxStats]):
    """A UID2 operator on 127.0.0.1 with its own clock, opt-out list and traffic statistics."""

    def __init__(
        self, config: UID2SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or UID2SandboxConfig()
        self._state = _SandboxState(self.config)
        super().__init__(self._state, _Handler, host, port)

    def add_optouts(self, hashes: Iterable[str]) -> None:
        """Opt identities out while running (base64 SHA-256 of the normalized email or phone)."""
        self._state.add_optouts(hashes)


def _parser() -> argparse.ArgumentParser:
    d = UID2SandboxConfig()
    p = sandbox_parser(
        "identity-pipeline sandbox uid2",
        "Serve a local UID2 operator (Identity Map v3/v2) until interrupted.",
        d,
    )
    p.add_argument("--api-key", default=d.api_key, help="bearer key clients must send")
    p.add_argument("--secret", default=d.secret, help="client secret: base64 of a 32-byte key")
    p.add_argument(
        "--optout-rate", type=float, default=d.optout_rate, help="share of identities opted out"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """CLI entry: prints `listening on http://HOST:PORT`, serves until SIGINT or SIGTERM."""
    return run_cli(_parser(), argv, UID2SandboxConfig, UID2Sandbox, "uid2-sandbox")


if __name__ == "__main__":
    raise SystemExit(main())
