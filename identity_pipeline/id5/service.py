"""Where a run sends ID5 requests when nobody configured it: the local sandbox.

For `identity-pipeline demo` and for trying the pipeline out: with `ID5_BASE_URL`,
`ID5_PARTNER_ID` and `ID5_TOKEN` all set, nothing changes; otherwise a sandbox serves on
127.0.0.1 and those variables point at it until the block ends (the `id5` resource reads them
when a run starts, through `EnvVar`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from identity_pipeline.id5.client import ENV_BASE_URL, ENV_PARTNER_ID, ENV_TOKEN

ID5_ENV = (ENV_BASE_URL, ENV_PARTNER_ID, ENV_TOKEN)


@contextmanager
def id5_service() -> Iterator[str]:
    """Yields a one-line description of the service in use (never the token)."""
    if all(os.environ.get(name) for name in ID5_ENV):
        yield f"ID5 {os.environ[ENV_BASE_URL]} (from the environment)"
        return
    from identity_pipeline.sandboxes.id5 import ID5Sandbox

    with ID5Sandbox() as sandbox:
        saved = {name: os.environ.get(name) for name in ID5_ENV}
        os.environ.update(
            {
                ENV_BASE_URL: sandbox.base_url,
                ENV_PARTNER_ID: str(sandbox.config.partner),
                ENV_TOKEN: sandbox.config.token,
            }
        )
        try:
            yield f"ID5 sandbox {sandbox.base_url} (no ID5 credentials set)"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


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
