"""The service's configuration, read from environment variables (README "Identity service")."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from identity_pipeline import settings

ENV_TOKENS = "IDENTITY_SERVICE_TOKENS"
ENV_RATE_LIMIT = "IDENTITY_SERVICE_RATE_LIMIT"
ENV_RATE_WINDOW = "IDENTITY_SERVICE_RATE_WINDOW_SECONDS"
ENV_MAX_BODY = "IDENTITY_SERVICE_MAX_BODY_BYTES"
ENV_DATA = "IDENTITY_SERVICE_DATA"
ENV_GRAPH = settings.ENV_SERVICE_GRAPH
ENV_SEGMENT_SECONDS = "IDENTITY_SERVICE_SEGMENT_SECONDS"
ENV_SEGMENT_BYTES = "IDENTITY_SERVICE_SEGMENT_BYTES"
ENV_JOURNAL_LIMIT = "IDENTITY_SERVICE_JOURNAL_LIMIT"
ENV_GRAPH_POLL = "IDENTITY_SERVICE_GRAPH_POLL_SECONDS"

SCOPES = frozenset({"read", "write"})


class ConfigError(ValueError):
    """A setting is missing or malformed (the message names the variable, never a secret)."""


@dataclass(frozen=True)
class ServiceConfig:
    tokens: dict[str, frozenset[str]] = field(repr=False)
    rate_limit: int = 1000
    rate_window_seconds: int = 1
    max_body_bytes: int = 65_536
    data_dir: Path = Path("data/service")
    graph_dir: Path = Path(settings.DEFAULT_SERVICE_GRAPH)
    landing_dir: Path = Path(settings.DEFAULT_LANDING)
    segment_seconds: float = 60.0
    segment_bytes: int = 64 * 1024 * 1024
    journal_limit: int = 1000
    graph_poll_seconds: float = 5.0
    default_region: str = settings.DEFAULT_REGION


def parse_tokens(raw: str) -> dict[str, frozenset[str]]:
    """`t1:read+write,t2:read` -> {token: scopes}. Errors name the entry's position only."""
    tokens: dict[str, frozenset[str]] = {}
    for position, entry in enumerate(raw.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        token, sep, scopes_text = entry.rpartition(":")
        if not sep or not token:
            raise ConfigError(f"${ENV_TOKENS}: entry {position} is not TOKEN:SCOPES")
        scopes = frozenset(s.strip() for s in scopes_text.split("+") if s.strip())
        if not scopes or not scopes <= SCOPES:
            raise ConfigError(
                f"${ENV_TOKENS}: entry {position} has scopes other than read/write joined by '+'"
            )
        tokens[token] = scopes
    return tokens


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"${name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"${name} must be at least {minimum}, got {value}")
    return value


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"${name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"${name} must be positive")
    return value


def from_env() -> ServiceConfig:
    tokens = parse_tokens(os.environ.get(ENV_TOKENS, ""))
    if not tokens:
        raise ConfigError(f"${ENV_TOKENS} is empty: set e.g. 'TOKEN:read+write'")
    return ServiceConfig(
        tokens=tokens,
        rate_limit=_int(ENV_RATE_LIMIT, 1000, 1),
        rate_window_seconds=_int(ENV_RATE_WINDOW, 1, 1),
        max_body_bytes=_int(ENV_MAX_BODY, 65_536, 256),
        data_dir=Path(os.environ.get(ENV_DATA) or "data/service"),
        graph_dir=settings.service_graph_path(),
        landing_dir=settings.landing_path(),
        segment_seconds=_seconds(ENV_SEGMENT_SECONDS, 60.0),
        segment_bytes=_int(ENV_SEGMENT_BYTES, 64 * 1024 * 1024, 1024),
        journal_limit=_int(ENV_JOURNAL_LIMIT, 1000, 1),
        graph_poll_seconds=_seconds(ENV_GRAPH_POLL, 5.0),
        default_region=settings.default_region(),
    )
