"""Retrying calls to identity APIs: exponential backoff with full jitter inside a time budget.

Error messages here are built from status codes and exception class names only. Exception text
from HTTP libraries can carry the request URL, and the ID5 URL carries the API token.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)

T = TypeVar("T")

RetryHook = Callable[[str, int, float], None]
"""`on_retry(reason, attempt, sleep_seconds)`: told about every retry, for logging."""


class RetryableAPIError(Exception):
    """A failure that may pass if we wait: 429, 5xx, dropped connection, timeout."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FatalAPIError(Exception):
    """A failure retrying cannot fix (bad credentials, a request the service refuses)."""


class RetriesExhaustedError(Exception):
    """The retry budget ran out; the message says what was tried and the last reason."""


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter backoff: wait a random time in [0, min(max_wait, initial_wait * 2**n)]."""

    max_total_seconds: float = 300.0
    initial_wait_seconds: float = 0.2
    max_wait_seconds: float = 30.0


@dataclass
class CallStats:
    """What one run's API calls cost; becomes materialization metadata.

    `api_seconds` is time spent waiting on the service (the HTTP round trip only); clients add
    to it around the request itself, so encryption and parsing count as local time.
    """

    requests: int = 0
    retries: int = 0
    api_seconds: float = 0.0
    retry_reasons: Counter[str] = field(default_factory=Counter)

    def merge(self, other: CallStats) -> None:
        self.requests += other.requests
        self.retries += other.retries
        self.api_seconds += other.api_seconds
        self.retry_reasons.update(other.retry_reasons)


def call_with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    stats: CallStats,
    what: str,
    on_retry: RetryHook | None = None,
) -> T:
    """Run `call`, retrying RetryableAPIError until it succeeds or the budget is spent.

    `what` names the call in errors (e.g. "UID2 batch 3/20"); it must not contain DII.
    `on_retry(reason, attempt, sleep_seconds)` is told about every retry, for logging.
    """

    def counted_call() -> T:
        stats.requests += 1
        return call()

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = error.reason if isinstance(error, RetryableAPIError) else "unknown"
        stats.retries += 1
        stats.retry_reasons[reason] += 1
        if on_retry is not None:
            sleep = state.next_action.sleep if state.next_action else 0.0
            on_retry(reason, state.attempt_number, sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(RetryableAPIError),
        wait=wait_random_exponential(
            multiplier=policy.initial_wait_seconds, max=policy.max_wait_seconds
        ),
        stop=stop_after_delay(policy.max_total_seconds),
        before_sleep=before_sleep,
        reraise=True,
    )
    started = time.monotonic()
    attempts = 0
    try:
        for attempt in retrying:
            attempts = attempt.retry_state.attempt_number
            with attempt:
                return counted_call()
    except RetryableAPIError as error:
        raise RetriesExhaustedError(
            f"{what}: gave up after {attempts} attempt(s) in {time.monotonic() - started:.1f}s "
            f"(budget {policy.max_total_seconds:.0f}s); last error: {error.reason}"
        ) from None
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
