"""Where a run sends UID2 and ID5 requests when nobody configured it: the local sandboxes.

For `identity-pipeline demo` and for trying the pipeline out: with a service's variables all
set (UID2_BASE_URL, UID2_API_KEY, UID2_SECRET_KEY; ID5_BASE_URL, ID5_PARTNER_ID, ID5_TOKEN),
nothing changes; otherwise its sandbox serves on 127.0.0.1 and those variables point at it
until the block ends (the resources read them when a run starts, through `EnvVar`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import duckdb

from identity_pipeline.id5 import client as id5_client
from identity_pipeline.uid2 import client as uid2_client

UID2_ENV = (uid2_client.ENV_BASE_URL, uid2_client.ENV_API_KEY, uid2_client.ENV_SECRET_KEY)
ID5_ENV = (id5_client.ENV_BASE_URL, id5_client.ENV_PARTNER_ID, id5_client.ENV_TOKEN)


@contextmanager
def _service(
    label: str,
    configured: str,
    names: tuple[str, ...],
    sandbox: Callable[[], AbstractContextManager[Any]],
    env_of: Callable[[Any], tuple[str, ...]],
) -> Iterator[str]:
    """Yields a one-line description of the service in use (never a secret)."""
    if all(os.environ.get(name) for name in names):
        yield f"{configured} {os.environ[names[0]]} (from the environment)"
        return
    with sandbox() as running:
        saved = {name: os.environ.get(name) for name in names}
        os.environ.update(dict(zip(names, env_of(running), strict=True)))
        try:
            yield f"{label} sandbox {running.base_url} (no {label} credentials set)"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def uid2_service() -> AbstractContextManager[str]:
    from identity_pipeline.sandboxes.uid2 import UID2Sandbox

    return _service(
        "UID2",
        "UID2 operator",
        UID2_ENV,
        UID2Sandbox,
        lambda s: (s.base_url, s.config.api_key, s.config.secret),
    )


def id5_service() -> AbstractContextManager[str]:
    from identity_pipeline.sandboxes.id5 import ID5Sandbox

    return _service(
        "ID5",
        "ID5",
        ID5_ENV,
        ID5Sandbox,
        lambda s: (s.base_url, str(s.config.partner), s.config.token),
    )


def id5_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts for a run summary: id5_mapping rows per status, and ID history rows."""
    counts = {
        str(status): int(n)
        for status, n in con.execute(
            "SELECT status, count(*) FROM id5_mapping GROUP BY 1 ORDER BY 1"
        ).fetchall()
    }
    counts["history_rows"] = int(
        con.execute("SELECT count(*) FROM id5_uid_history").fetchall()[0][0]
    )
    return counts
