"""`identity-pipeline demo`: sample data through the real Dagster job, then a summary."""

from __future__ import annotations

import os

from identity_pipeline import settings


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
    with console.status(f"generating {rows} sample contacts into {landing / 'contacts'}"):
        generate_contacts(rows, landing, seed=seed)
    instance = (
        DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    )
    with console.status("running job ingest_contacts (raw_contacts -> dii)"):
        result = defs.resolve_job_def("ingest_contacts").execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    if not result.success:
        console.print("[red]ingest_contacts failed; see the log above[/red]")
        return 1
    with connect(database) as con:
        identities = dict(con.execute("SELECT dii_type, count(*) FROM dii GROUP BY 1").fetchall())
        links = con.execute("SELECT count(*) FROM customer_dii").fetchone()
        raw = con.execute("SELECT count(*) FROM raw_contacts").fetchone()
        rejects = con.execute(
            "SELECT reason, count(*) FROM dii_rejects GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        failed = con.execute(
            "SELECT count(*) FROM contact_files WHERE status = 'failed'"
        ).fetchone()
    table = Table(title=f"identity_pipeline demo — {database}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("raw contact rows", f"{raw[0] if raw else 0:,}")
    table.add_row("identities (email)", f"{identities.get('email', 0):,}")
    table.add_row("identities (phone)", f"{identities.get('phone', 0):,}")
    table.add_row("customer links", f"{links[0] if links else 0:,}")
    for reason, count in rejects:
        table.add_row(f"rejected: {reason}", f"{count:,}")
    table.add_row("files that failed to load", f"{failed[0] if failed else 0:,}")
    console.print(table)
    return 0
