"""Real `dagster asset materialize` processes against one instance built from the project's
dagster.yaml, for the tests that prove a pool holds across processes (UID2 and ID5)."""

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from dagster import DagsterEventType, DagsterInstance

from identity_pipeline.dagster_instance import prepare_home

PROJECT = Path(__file__).resolve().parents[1]


class _Counters(Protocol):
    @property
    def requests(self) -> int: ...


class Sandbox(Protocol):
    """UID2Sandbox and ID5Sandbox: both count the API requests they received."""

    @property
    def stats(self) -> _Counters: ...


def instance_env(workspace: Path, **variables: str) -> dict[str, str]:
    """The environment for a run: this process's (DuckDB file and landing folder from the
    `workspace` fixture), DAGSTER_HOME = workspace/dagster_home holding a copy of the project's
    dagster.yaml, and `variables` (API base URLs and credentials)."""
    home = prepare_home(workspace / "dagster_home")
    return {**os.environ, "DAGSTER_HOME": str(home), **variables}


def materialize(env: dict[str, str], select: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `dagster asset materialize --select SELECT` on the project's definitions; its
    stdout and stderr (Dagster's event log) go to `log`."""
    command = [sys.executable, "-m", "dagster", "asset", "materialize"]
    command += ["-m", "identity_pipeline.definitions", "--select", select]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT)


def finish(run: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> str:
    """Wait for a run started by `materialize`; assert it succeeded and return its log."""
    code = run.wait(timeout=timeout)
    text = log.read_text()
    assert code == 0, text[-2000:]
    return text


def wait_for_requests(sandbox: Sandbox, count: int, timeout: float = 120.0) -> None:
    """Wait until the sandbox has received `count` API requests."""
    deadline = time.monotonic() + timeout
    while sandbox.stats.requests < count:
        assert time.monotonic() < deadline, "the run never reached the sandbox"
        time.sleep(0.05)


def step_intervals(env: dict[str, str], steps: set[str]) -> list[tuple[float, float, str, str]]:
    """(started, finished, step, run id) of every successful `steps` step in the instance of
    `env`, in start order, from the runs' event logs."""
    kinds = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
    intervals = []
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        for run in instance.get_runs():
            times: dict[tuple[str, DagsterEventType], float] = {}
            for entry in instance.all_logs(run.run_id, of_type=kinds):
                event = entry.dagster_event
                if event is not None and entry.step_key in steps:
                    times[(entry.step_key, event.event_type)] = entry.timestamp
            for step in steps:
                started = times.get((step, DagsterEventType.STEP_START))
                finished = times.get((step, DagsterEventType.STEP_SUCCESS))
                assert started is not None and finished is not None, (run.run_id, step, times)
                intervals.append((started, finished, step, run.run_id))
    return sorted(intervals)


def assert_one_step_at_a_time(env: dict[str, str], steps: set[str], runs: int) -> None:
    """The pool's promise, from the event log: across `runs` runs, no two of `steps` (the
    steps of one pool) were ever executing at the same time."""
    intervals = step_intervals(env, steps)
    assert len(intervals) == runs * len(steps), intervals
    for before, after in itertools.pairwise(intervals):
        assert before[1] <= after[0], f"{after[2:]} started before {before[2:]} finished"
