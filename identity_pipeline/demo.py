"""`identity-pipeline demo`: sample data through the real Dagster jobs, then a summary.

Without UID2 credentials in the environment the demo starts the local UID2 sandbox on
127.0.0.1 and points the run at it; with credentials it uses them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from identity_pipeline import settings

UID2_ENV = ("UID2_BASE_URL", "UID2_API_KEY", "UID2_SECRET_KEY")


@contextmanager
def _uid2_operator(console: Any) -> Iterator[str]:
    """Real credentials if all are set, else a sandbox for the duration of the demo."""
    if all(os.environ.get(name) for name in UID2_ENV):
        yield f"UID2 operator {os.environ['UID2_BASE_URL']} (from the environment)"
        return
    from identity_pipeline.sandboxes.uid2 import UID2Sandbox

    with UID2Sandbox() as sandbox:
        saved = {name: os.environ.get(name) for name in UID2_ENV}
        os.environ.update(
            UID2_BASE_URL=sandbox.base_url,
            UID2_API_KEY=sandbox.config.api_key,
            UID2_SECRET_KEY=sandbox.config.secret,
        )
        try:
            yield f"UID2 sandbox {sandbox.base_url} (no UID2 credentials set)"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def run_demo(rows: int, seed: int) -> int:
    from dagster import DagsterInstance
    from rich.console import Console
    from rich.table import Table

    from identity_pipeline.contacts.generate import generate_contacts
    from identity_pipeline.definitions import defs
    from identity_pipeline.warehouse import connect

    console = Console()
    landing = settings.landing_path()
    database = settings.database_path()
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with ExitStack() as stack:
        instance = stack.enter_context(
            DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
        )
        with console.status(f"generating {rows} sample contacts into {landing / 'contacts'}"):
            generate_contacts(rows, landing, seed=seed)
        operator = stack.enter_context(_uid2_operator(console))
        console.print(f"using {operator}")
        for job, what in (
            ("ingest_contacts", "raw_contacts -> dii"),
            ("uid2_refresh", "optouts -> uid2_due_for_refresh -> uid2_mapping"),
        ):
            with console.status(f"running job {job} ({what})"):
                result = defs.resolve_job_def(job).execute_in_process(
                    instance=instance, run_config=run_config, raise_on_error=False
                )
            if not result.success:
                console.print(f"[red]{job} failed; see the log above[/red]")
                return 1
            console.print(f"[green]✓[/green] {job}")
    with connect(database) as con:
        identities = dict(con.execute("SELECT dii_type, count(*) FROM dii GROUP BY 1").fetchall())
        links = con.execute("SELECT count(*) FROM customer_dii").fetchall()[0][0]
        raw = con.execute("SELECT count(*) FROM raw_contacts").fetchall()[0][0]
        rejects = con.execute(
            "SELECT reason, count(*) FROM dii_rejects GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        failed = con.execute(
            "SELECT count(*) FROM contact_files WHERE status = 'failed'"
        ).fetchall()[0][0]
        uid2 = dict(con.execute("SELECT status, count(*) FROM uid2_mapping GROUP BY 1").fetchall())
        previous = con.execute(
            "SELECT count(*) FROM uid2_mapping WHERE previous_uid IS NOT NULL"
        ).fetchall()[0][0]
    table = Table(title=f"identity_pipeline demo — {database}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("raw contact rows", f"{raw:,}")
    table.add_row("identities (email)", f"{identities.get('email', 0):,}")
    table.add_row("identities (phone)", f"{identities.get('phone', 0):,}")
    table.add_row("customer links", f"{links:,}")
    for reason, count in rejects:
        table.add_row(f"rejected: {reason}", f"{count:,}")
    table.add_row("files that failed to load", f"{failed:,}")
    table.add_row("UID2 mapped", f"{uid2.get('mapped', 0):,}")
    table.add_row("UID2 mapped, with a previous UID2", f"{previous:,}")
    table.add_row("UID2 opted out", f"{uid2.get('optout', 0):,}")
    table.add_row("UID2 invalid", f"{uid2.get('invalid', 0):,}")
    console.print(table)
    return 0
