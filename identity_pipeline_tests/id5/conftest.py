"""ID5 test fixtures: a sandbox on 127.0.0.1, a client with short backoffs, one-call runs.

Identities are seeded with `seed_dii` from the UID2 tests: four in five are emails whose
`id5_hash` is the hex form of the same SHA-256 as their `uid2_hash`, as ingestion writes them.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize

from identity_pipeline import settings
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.id5.assets import id5_due_for_refresh, id5_mapping
from identity_pipeline.id5.client import ID5Client
from identity_pipeline.optouts.assets import optouts
from identity_pipeline.optouts.checks import optout_checks
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.sandboxes.id5 import ID5Sandbox, ID5SandboxConfig


@pytest.fixture
def id5_sandbox() -> Iterator[Callable[..., ID5Sandbox]]:
    """Start ID5 sandboxes on free ports; all stop afterwards."""
    started: list[ID5Sandbox] = []

    def start(**overrides: Any) -> ID5Sandbox:
        sandbox = ID5Sandbox(ID5SandboxConfig(**overrides)).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


def client_for(sandbox: ID5Sandbox, **overrides: Any) -> ID5Client:
    """A client with short backoffs so fault tests finish quickly."""
    settings_: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "partner_id": sandbox.config.partner,
        "token": sandbox.config.token,
        "initial_backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "read_timeout_seconds": 2.0,
        "max_retry_seconds": 60.0,
        **overrides,
    }
    return ID5Client(**settings_)


def pin_clock(monkeypatch: pytest.MonkeyPatch, sandbox: ID5Sandbox) -> None:
    """The pipeline's clock follows the sandbox's, which tests move forward by days."""
    monkeypatch.setenv(settings.ENV_NOW, sandbox.clock.now().isoformat())


def run_id5(
    client: ID5Client, instance: DagsterInstance, *, only_new: bool = False
) -> ExecuteInProcessResult:
    """optouts -> id5_due_for_refresh -> id5_mapping/id5_uid_history, with the opt-out checks."""
    return materialize(
        [optouts, id5_due_for_refresh, id5_mapping, *optout_checks(["optouts", "id5_mapping"])],
        resources={
            "warehouse": DuckDBWarehouse(),
            "landing": LandingArea(),
            "id5": client,
            "spark": SparkResource(),
        },
        instance=instance,
        run_config={"ops": {"id5_due_for_refresh": {"config": {"only_new": only_new}}}},
        raise_on_error=False,
    )
