"""Step progress for commands that run a few long steps (the demo).

On a terminal: a rich progress bar that redraws in place. Anywhere else (a pipe, a CI log, a
file) a redrawn bar leaves control characters and a cut-off last line, so each step is one
whole line instead, with the seconds it took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class StepProgress(Protocol):
    """The part of rich.progress.Progress the demo uses."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any: ...

    def update(self, task_id: Any, *, description: str | None = ...) -> None: ...

    def advance(self, task_id: Any, advance: float = ...) -> None: ...

    def stop(self) -> None: ...


class PlainProgress:
    """One line per step: `[2/5] uid2_refresh: ...`, then `      done in 1.2 s`."""

    def __init__(self, console: Any) -> None:
        self._console = console
        self._total: float | None = None
        self._done = 0
        self._step_started = 0.0

    def add_task(self, description: str, *, total: float | None = None) -> int:
        self._total = total
        return 0

    def update(self, task_id: Any, *, description: str | None = None) -> None:
        if description is not None:
            of = f"/{self._total:g}" if self._total is not None else ""
            self._console.print(
                f"[{self._done + 1}{of}] {description}", soft_wrap=True, highlight=False
            )
            self._step_started = time.perf_counter()

    def advance(self, task_id: Any, advance: float = 1) -> None:
        self._done += int(advance)
        seconds = time.perf_counter() - self._step_started
        self._console.print(f"    done in {seconds:.1f} s", soft_wrap=True, highlight=False)

    def stop(self) -> None:
        """Nothing to take down: every line is already whole."""


@contextmanager
def step_progress(console: Any) -> Iterator[StepProgress]:
    """A live progress bar on a terminal, whole lines elsewhere."""
    if not console.is_terminal:
        yield PlainProgress(console)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield progress
