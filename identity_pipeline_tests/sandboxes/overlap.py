"""Firing requests at a sandbox at the same moment, for the reject-parallel tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def call_at_once(call: Callable[[], T], times: int) -> tuple[list[T], float]:
    """Run `call` from `times` threads started together; the results and the seconds taken."""
    results: list[T] = []
    threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(times)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - began
