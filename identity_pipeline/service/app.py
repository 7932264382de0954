"""The ASGI application: seed 003's `POST /api/v1/identifier` (and /openapi.json, /healthz).

Starlette on uvicorn. A request is authenticated (bearer token and scopes from
IDENTITY_SERVICE_TOKENS), counted against its token's rate limit, read up to the body limit,
validated, and then:
- with `count_prev_visits` (create/update): the event is committed to the log, applied to the
  overlay, and the answer gives the person's uuid, the request's own email and its visits;
- without it (journal): the request's own event is committed first when it carries
  `valuation_properties`, then the person's journal is answered, newest first.
Errors are `{"success": false, "error": {"message", "code"}}`; messages never echo a value
from the request, and a 500 says nothing of its cause.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from identity_pipeline.service.config import ServiceConfig
from identity_pipeline.service.eventlog import EventLog, Pending
from identity_pipeline.service.identifiers import BlockedValues, Identifier, event_identifiers
from identity_pipeline.service.openapi import OPENAPI
from identity_pipeline.service.overlay import Event, Overlay, Person
from identity_pipeline.service.snapshot import GraphSnapshot

log = logging.getLogger("identity_pipeline.service")

PATH = "/api/v1/identifier"
STRING_FIELDS = ("platform", "anonymous_id", "email", "phone", "fbclid", "gclid", "gaclid")
REPLAY_CHUNK = 5000


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def error_body(code: str, message: str) -> bytes:
    return _dumps({"success": False, "error": {"message": message, "code": code}})


class RateLimiter:
    """Fixed windows per key: `limit` requests per `window` seconds."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit, self.window = limit, window
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[bool, dict[str, str]]:
        start = int(time.time()) // self.window * self.window
        window_start, used = self._counts.get(key, (start, 0))
        if window_start != start:
            window_start, used = start, 0
        allowed = used < self.limit
        if allowed:
            used += 1
        self._counts[key] = (window_start, used)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == start}
        return allowed, {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - used),
            "X-RateLimit-Reset": str(window_start + self.window),
        }


def validate(body: Any) -> dict[str, Any]:
    """The body as a dict, or ApiError 400 naming the field (never its value)."""
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "the body must be a JSON object")
    for name in STRING_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ApiError(400, "INVALID_FIELD", f"'{name}' must be a string")
    if not isinstance(body.get("platform"), str) or not body["platform"].strip():
        raise ApiError(400, "MISSING_FIELD", "'platform' is required")
    if "count_prev_visits" in body and not isinstance(body["count_prev_visits"], bool):
        raise ApiError(400, "INVALID_FIELD", "'count_prev_visits' must be a boolean")
    props = body.get("valuation_properties")
    if props is not None:
        if not isinstance(props, dict):
            raise ApiError(400, "INVALID_FIELD", "'valuation_properties' must be an object")
        if props.get("action") is not None and not isinstance(props["action"], str):
            raise ApiError(400, "INVALID_FIELD", "'valuation_properties.action' must be a string")
        inner = props.get("properties")
        if inner is not None and not isinstance(inner, dict):
            raise ApiError(
                400, "INVALID_FIELD", "'valuation_properties.properties' must be an object"
            )
    if not any(
        isinstance(body.get(name), str) and body[name].strip() for name in ("anonymous_id", "email")
    ):
        raise ApiError(400, "MISSING_IDENTIFIER", "either 'anonymous_id' or 'email' is required")
    return body


class IdentityService:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.limiter = RateLimiter(config.rate_limit, config.rate_window_seconds)
        self.log = EventLog(
            config.data_dir,
            config.landing_dir,
            segment_bytes=config.segment_bytes,
            segment_seconds=config.segment_seconds,
        )
        self.snapshot = GraphSnapshot()
        self.overlay = Overlay(self.snapshot)
        self._blocked = BlockedValues()
        self.replayed = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.snapshot = GraphSnapshot.load(self.config.graph_dir)
        self.overlay = Overlay(self.snapshot)
        chunk: list[tuple[int, bytes]] = []
        for numbered in self.log.recover(skip=self._ingested(self.snapshot)):
            chunk.append(numbered)
            if len(chunk) >= REPLAY_CHUNK:
                self._replay(chunk)
                chunk = []
        self._replay(chunk)
        self.log.start(loop, self._prepare, self._committed)
        log.warning(
            "identity service ready: %d persons in graph %s, %d events replayed",
            self.snapshot.persons,
            self.snapshot.version or "(none)",
            self.replayed,
        )

    async def watch_graph(self) -> None:
        """Swap in each graph the pipeline publishes: load it off the event loop, then carry
        over the accepted events it has not ingested (one loop step, so no answer sees half
        of it)."""
        current = self.config.graph_dir / "CURRENT"
        while True:
            await asyncio.sleep(self.config.graph_poll_seconds)
            try:
                version = current.read_text().strip() if current.exists() else ""
                if not version or version == self.snapshot.version:
                    continue
                snapshot = await asyncio.to_thread(GraphSnapshot.load, self.config.graph_dir)
                self.overlay = self.overlay.carry_over(snapshot, self._ingested(snapshot))
                self.snapshot = snapshot
                log.warning(
                    "identity service: graph %s live (%d persons, %d events carried over)",
                    snapshot.version,
                    snapshot.persons,
                    len(self.overlay.events),
                )
            except Exception as exc:  # keep serving the graph we have
                log.error("identity service: could not load a new graph: %s", type(exc).__name__)

    def _ingested(self, snapshot: GraphSnapshot) -> Callable[[int], bool]:
        """Whether the snapshot's graph holds the events of this log's segment n."""
        ingested, log_id = snapshot.ingested, self.log.log_id
        return lambda number: ingested.covers(log_id, number)

    def stop(self) -> None:
        self.log.stop()
        self._blocked.close()
        log.warning(
            "identity service stopped: %d events committed in %d syncs (%.1f ms a sync)",
            self.log.events,
            self.log.batches,
            1000 * self.log.sync_seconds / max(1, self.log.batches),
        )

    def _replay(self, lines: list[tuple[int, bytes]]) -> None:
        items = []
        for segment, line in lines:
            row = json.loads(line)
            event_id, created_at = row.pop("event_id", None), row.pop("created_at")
            del event_id
            row["created_at"] = created_at
            created_us = _parse_us(created_at)
            identifiers = event_identifiers(row, self.config.default_region)
            anonymous = row.get("anonymous_id")
            item = Pending(
                line,
                (created_at, created_us, _dumps(row), identifiers, _text_or_none(anonymous)),
            )
            item.segment = segment
            items.append(item)
        self._prepare(items)
        for item in items:
            self._apply(item)
        self.replayed += len(items)

    # -- the commit path ------------------------------------------------------------------
    def _prepare(self, batch: list[Pending]) -> None:
        """Writer thread: which identifiers of the batch are blocked values."""
        every = [i for item in batch for i in item.extra[3]]
        blocked = self._blocked.blocked_keys(every)
        if blocked:
            for item in batch:
                item.blocked = {i.id_key for i in item.extra[3] if i.id_key in blocked}

    def _apply(self, item: Pending) -> Person | None:
        created_at, created_us, entry, identifiers, anonymous = item.extra
        usable = tuple(i for i in identifiers if i.id_key not in item.blocked)
        return self.overlay.apply(
            Event(item.segment, created_at, created_us, entry, usable, anonymous)
        )

    def _committed(self, batch: list[Pending]) -> None:
        """Event loop, after the sync: apply in log order, then release the answers."""
        for item in batch:
            try:
                person = self._apply(item)
            except Exception as exc:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(exc)
                continue
            if item.future is not None and not item.future.done():
                item.future.set_result(person)

    async def record(self, body: dict[str, Any], identifiers: list[Identifier]) -> Person | None:
        now = datetime.now(UTC)
        created_at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        created_us = int(now.timestamp() * 1_000_000)
        row = dict(body)
        row.pop("created_at", None)
        row["event_id"] = str(uuid.uuid4())
        row["created_at"] = created_at
        line = _dumps(row) + b"\n"
        del row["event_id"]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        anonymous = _text_or_none(body.get("anonymous_id"))
        extra = (created_at, created_us, _dumps(row), identifiers, anonymous)
        self.log.submit(Pending(line, extra, future))
        result: Person | None = await future
        return result

    # -- HTTP (raw ASGI: the hot path skips the framework's request/response objects) -------
    def _authenticate(self, authorization: str) -> tuple[str, frozenset[str]] | None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        scopes = self.config.tokens.get(token)
        return (token, scopes) if scopes is not None else None

    async def _read_body(self, receive: Receive, declared: str | None) -> bytes:
        limit = self.config.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ApiError(400, "BODY_TOO_LARGE", f"the body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "INVALID_JSON", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ApiError(400, "BODY_TOO_LARGE", f"the body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def identifier(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value.decode("latin-1")
        auth = self._authenticate(authorization or "")
        client = scope.get("client")
        key = f"token:{auth[0]}" if auth else f"client:{client[0] if client else 'unknown'}"
        allowed, limits = self.limiter.hit(key)
        status = 200
        try:
            if auth is None:
                raise ApiError(401, "UNAUTHORIZED", "missing or unknown bearer token")
            if not allowed:
                raise ApiError(429, "RATE_LIMITED", "rate limit exceeded; see X-RateLimit-Reset")
            raw = await self._read_body(receive, declared)
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "INVALID_JSON", "the body is not valid JSON") from None
            content = await self._answer(validate(parsed), auth[1])
        except ApiError as exc:
            status, content = exc.status, error_body(exc.code, exc.message)
        except Exception as exc:
            log.error("internal error answering a request: %s", type(exc).__name__)
            status, content = 500, error_body("INTERNAL_ERROR", "internal error")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in limits.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _answer(self, body: dict[str, Any], scopes: frozenset[str]) -> bytes:
        create = "count_prev_visits" in body
        records = create or body.get("valuation_properties") is not None
        if records and "write" not in scopes:
            raise ApiError(403, "FORBIDDEN", "recording an event needs the 'write' scope")
        if not create and "read" not in scopes:
            raise ApiError(403, "FORBIDDEN", "reading a journal needs the 'read' scope")
        identifiers = event_identifiers(body, self.config.default_region)
        person = await self.record(body, identifiers) if records else None
        if create:
            email = body.get("email")
            return _dumps(
                {
                    "success": True,
                    "data": {
                        "uuid": person.uuid if person else None,
                        "email": email.strip() if isinstance(email, str) else "",
                        "count_prev_visits": person.visits if person else 0,
                    },
                }
            )
        if person is None:
            anonymous = body.get("anonymous_id")
            person = self.overlay.lookup(
                identifiers, anonymous if isinstance(anonymous, str) else None
            )
        entries = self.overlay.journal(person, self.config.journal_limit) if person else []
        return (
            b'{"success":true,"data":{"uuid":'
            + _dumps(person.uuid if person else None)
            + b',"journal":['
            + b",".join(entries)
            + b"]}}"
        )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _parse_us(created_at: str) -> int:
    moment = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


async def _openapi(request: Request) -> Response:
    return Response(_dumps(OPENAPI), media_type="application/json")


async def _healthz(request: Request) -> Response:
    return Response(b'{"success":true}', media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "HTTP_ERROR")
    message = {404: "no such endpoint", 405: "method not allowed"}.get(status, "request failed")
    return Response(error_body(code, message), status, media_type="application/json")


class _Identifier:
    """The endpoint as a plain ASGI app (Starlette routes to it; `build_app` calls it
    directly for POSTs, skipping the middleware stack)."""

    def __init__(self, service: IdentityService) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.service.identifier(scope, receive, send)


def build_app(service: IdentityService) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start(asyncio.get_running_loop())
        watcher = asyncio.create_task(service.watch_graph())
        try:
            yield
        finally:
            watcher.cancel()
            service.stop()

    starlette = Starlette(
        routes=[
            Route("/api/v1/identifier", _Identifier(service), methods=["POST"]),
            Route("/openapi.json", _openapi, methods=["GET"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH:
            await service.identifier(scope, receive, send)
        else:
            await starlette(scope, receive, send)

    return app
