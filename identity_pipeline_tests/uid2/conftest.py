"""UID2 test fixtures: a sandbox operator on 127.0.0.1, seeded identities, one-call runs."""

from pathlib import Path
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult, materialize

from identity_pipeline import settings
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.optouts.assets import optouts
from identity_pipeline.optouts.checks import optout_checks
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline.sandboxes.uid2 import UID2Sandbox
from identity_pipeline.uid2.assets import uid2_due_for_refresh, uid2_mapping
from identity_pipeline.uid2.checks import uid2_refresh_from_in_future
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline.warehouse import connect


def client_for(sandbox: UID2Sandbox, **overrides: Any) -> UID2Client:
    """A client with short backoffs so fault tests finish quickly."""
    settings_: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "api_key": sandbox.config.api_key,
        "secret_key": sandbox.config.secret,
        "initial_backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "read_timeout_seconds": 2.0,
        "max_retry_seconds": 60.0,
        **overrides,
    }
    return UID2Client(**settings_)


def seed_dii(database: Path, count: int, *, first_id: int = 1, prefix: str = "person") -> None:
    """dii rows for count synthetic emails (every fifth a phone), hashed like the real thing."""
    with connect(database) as con:
        con.execute(
            """
            INSERT INTO dii
            SELECT i, CASE WHEN i % 5 = 0 THEN 'phone' ELSE 'email' END,
                   to_base64(unhex(sha256(? || i))),
                   CASE WHEN i % 5 = 0 THEN NULL ELSE sha256(? || i) END,
                   TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', 1
            FROM range(?, ? + ?) AS t(i)
            """,
            [prefix, prefix, first_id, first_id, count],
        )


def database() -> Path:
    return settings.database_path()


def run_uid2(client: UID2Client, instance: DagsterInstance) -> ExecuteInProcessResult:
    """optouts -> uid2_due_for_refresh -> uid2_mapping, with their checks, through Dagster."""
    return materialize(
        [
            optouts,
            uid2_due_for_refresh,
            uid2_mapping,
            uid2_refresh_from_in_future,
            *optout_checks(["optouts", "uid2_mapping"]),
        ],
        resources={
            "warehouse": DuckDBWarehouse(),
            "landing": LandingArea(),
            "uid2": client,
            "spark": SparkResource(),
        },
        instance=instance,
        raise_on_error=False,
    )


def metadata(result: ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"{asset} was not materialized")


def query(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connect(database()) as con:
        return con.execute(sql, params or []).fetchall()
