"""The HTTP client base every mapping service's resource builds on.

A pooled `requests` session per thread, connect/read timeouts, retries with full-jitter
backoff inside a time budget (`mapping.retry`), time spent waiting on the service counted
apart, and secrets kept out of logs and errors: messages are built from status codes and
exception class names only (an HTTP library's exception text can carry the URL), and query
parameters a service names in REDACTED_QUERY_PARAMS are masked in urllib3's debug lines.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import requests
from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from identity_pipeline.mapping.retry import (
    CallStats,
    FatalAPIError,
    RetryableAPIError,
    RetryHook,
    RetryPolicy,
    call_with_retries,
)

T = TypeVar("T")

_TRANSIENT = (
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class _RedactQuery(logging.Filter):
    """Replaces named query parameters in urllib3's 'POST /path?token=... 200' debug line."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names
        self.pattern = re.compile(rf"([?&](?:{'|'.join(map(re.escape, names))})=)[^&\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(f"{name}=" in message for name in self.names):
            record.msg, record.args = self.pattern.sub(r"\1<redacted>", message), ()
        return True


_FILTERS: dict[tuple[str, ...], _RedactQuery] = {}


def install_redaction(names: tuple[str, ...]) -> None:
    """Mask these query parameters in urllib3's log lines (idempotent)."""
    if not names:
        return
    redact = _FILTERS.setdefault(names, _RedactQuery(names))
    for logger_name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(logger_name)
        if redact not in logger.filters:
            logger.addFilter(redact)


class MappingHTTPClient(ConfigurableResource):  # type: ignore[type-arg]
    """What a mapping service's client shares; subclasses add the wire format.

    Subclasses set SERVICE (a name for errors), MAX_BATCH, ENV_BASE_URL and, if the service
    puts a secret in the URL, REDACTED_QUERY_PARAMS; and declare `base_url` and `batch_size`.
    """

    SERVICE: ClassVar[str] = "service"
    MAX_BATCH: ClassVar[int] = 1
    ENV_BASE_URL: ClassVar[str] = ""
    REDACTED_QUERY_PARAMS: ClassVar[tuple[str, ...]] = ()

    connect_timeout_seconds: float = Field(default=10.0)
    read_timeout_seconds: float = Field(default=60.0)
    max_retry_seconds: float = Field(
        default=600.0, description="Total time one request may spend retrying before the run fails."
    )
    initial_backoff_seconds: float = Field(default=0.5)
    max_backoff_seconds: float = Field(default=30.0)

    _local: threading.local = PrivateAttr(default_factory=threading.local)

    @property
    def effective_batch_size(self) -> int:
        size = int(getattr(self, "batch_size", self.MAX_BATCH))
        if not 1 <= size <= self.MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {self.MAX_BATCH}, got {size}")
        return size

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_total_seconds=self.max_retry_seconds,
            initial_wait_seconds=self.initial_backoff_seconds,
            max_wait_seconds=self.max_backoff_seconds,
        )

    def _session(self) -> requests.Session:
        """One pooled session per thread (requests sessions are not thread-safe)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            install_redaction(self.REDACTED_QUERY_PARAMS)
            session = requests.Session()
            self._local.session = session
        return session

    def _url(self, path: str) -> str:
        return str(getattr(self, "base_url", "")).rstrip("/") + path

    def _timed_post(
        self, url: str, stats: CallStats | None, **kwargs: Any
    ) -> tuple[requests.Response, bytes]:
        """POST with the client's timeouts; (response, body). Time waiting counts as API time;
        timeouts and dropped connections become RetryableAPIError, other failures to send
        FatalAPIError, all without the URL or the exception's text."""
        started = time.perf_counter()
        try:
            response = self._session().post(
                url, timeout=(self.connect_timeout_seconds, self.read_timeout_seconds), **kwargs
            )
            content = response.content  # read inside the timer: the body is the round trip
        except requests.Timeout:
            raise RetryableAPIError("timeout") from None
        except _TRANSIENT as error:
            raise RetryableAPIError(f"connection error ({type(error).__name__})") from None
        except requests.RequestException as error:
            # A malformed URL or scheme does not heal by waiting.
            raise FatalAPIError(
                f"{self.SERVICE} request could not be sent ({type(error).__name__}): check "
                f"${self.ENV_BASE_URL}"
            ) from None
        finally:
            if stats is not None:
                stats.api_seconds += time.perf_counter() - started
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableAPIError(f"HTTP {response.status_code}")
        return response, content

    def _with_retries(
        self, call: Callable[[], T], stats: CallStats, what: str, on_retry: RetryHook | None
    ) -> T:
        return call_with_retries(
            call, policy=self.retry_policy, stats=stats, what=what, on_retry=on_retry
        )
