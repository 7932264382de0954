"""What every mapping service's Dagster assets share: the due list's run config and the
materialization metadata of a mapping run, status chart included."""

from __future__ import annotations

from typing import Any

import duckdb
from dagster import Config, MetadataValue
from pydantic import Field

from identity_pipeline.mapping.batches import BatchReport
from identity_pipeline.reporting.charts import mapping_status_markdown


class DueConfig(Config):
    """Run config of a `*_due_for_refresh` asset."""

    only_new: bool = Field(
        default=False,
        description="Only identities never sent before (what a new contact file brings); "
        "refreshes are left to the scheduled run.",
    )


def mapping_metadata(
    con: duckdb.DuckDBPyConnection, report: BatchReport, service: str, *, failed: str, title: str
) -> dict[str, Any]:
    """Row count, what was sent, what the calls cost, `{service}_mapping`'s rows per status,
    and the status chart (`failed`: the status the service gives what it could not map)."""
    by_status: dict[Any, Any] = dict(
        con.execute(f"SELECT status, count(*) FROM {service}_mapping GROUP BY 1").fetchall()
    )
    chart = mapping_status_markdown(by_status, still_due(con, service), failed=failed, title=title)
    calls = report.calls
    client_ms = 1000 * report.local_seconds / report.batches if report.batches else 0.0
    return {
        "dagster/row_count": sum(int(v) for v in by_status.values()),
        "identities_sent": report.sent,
        "mapped": report.mapped,
        "batches": report.batches,
        "requests": calls.requests,
        "retries": calls.retries,
        "retry_reasons": MetadataValue.json(dict(calls.retry_reasons)),
        "api_wait_seconds": round(calls.api_seconds, 3),
        "local_seconds": round(report.local_seconds, 3),
        "client_ms_per_batch": round(client_ms, 2),
        "status_totals": MetadataValue.json({str(k): int(v) for k, v in by_status.items()}),
        "status_chart": MetadataValue.md(chart),
    }


def still_due(con: duckdb.DuckDBPyConnection, service: str) -> int:
    """Rows of the `{service}_still_due` view (due, and no answer has covered them yet): 0 after
    a complete run, more after one stopped early (the status chart's "still due")."""
    return int(con.execute(f"SELECT count(*) FROM {service}_still_due").fetchall()[0][0])
