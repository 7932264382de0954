"""Build dii, customer_dii and dii_rejects from raw_contacts rows not yet normalized.

Work is limited to files whose loaded version differs from the one dii was built from, and
everything lands in one transaction: after a crash dii is either the old or the new state.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.warehouse import fingerprint_salt, run_script, transaction

MAX_VALUE_CHARS = 1000
"""Longer emails/phones cannot be real (RFC 5321 caps addresses at 254) and are rejected."""

_SQL_PACKAGE = "identity_pipeline.contacts"


@dataclass(frozen=True)
class IdentityReport:
    files_processed: int
    values_processed: int
    values_rejected: int
    new_identities: int
    total_identities: int
    total_links: int
    rejects_by_reason: dict[str, int]


def build_identities(con: duckdb.DuckDBPyConnection, default_region: str) -> IdentityReport:
    run_script(con, _SQL_PACKAGE, "create_contact_values.sql")
    files = con.execute(
        "SELECT count(*) FROM contact_files WHERE status = 'loaded' "
        "AND normalized_checksum IS DISTINCT FROM loaded_checksum"
    ).fetchone()
    normalize_table(con, "ip_contact_values", "ip_normalized", default_region)
    con.execute(
        f"""
        UPDATE ip_normalized SET
            error = CASE WHEN strlen(value) > {MAX_VALUE_CHARS} THEN 'value_too_long'
                         ELSE 'customer_id_missing' END,
            normalized = NULL, uid2_hash = NULL, id5_hash = NULL
        WHERE strlen(value) > {MAX_VALUE_CHARS} OR (customer_id IS NULL AND error IS NULL)
        """
    )
    before = _count(con, "SELECT count(*) FROM dii")
    salt = fingerprint_salt(con)
    with transaction(con):
        run_script(con, _SQL_PACKAGE, "merge_into_identities.sql", {"salt": salt})
    rejects = dict(
        con.execute(
            "SELECT error, count(*) FROM ip_normalized WHERE error IS NOT NULL GROUP BY error"
        ).fetchall()
    )
    empty_rows = _count(con, "SELECT count(*) FROM ip_empty_rows")
    if empty_rows:
        rejects["no_identifier"] = empty_rows
    report = IdentityReport(
        files_processed=int(files[0]) if files else 0,
        values_processed=_count(con, "SELECT count(*) FROM ip_normalized"),
        values_rejected=sum(rejects.values()),
        new_identities=_count(con, "SELECT count(*) FROM dii") - before,
        total_identities=_count(con, "SELECT count(*) FROM dii"),
        total_links=_count(con, "SELECT count(*) FROM customer_dii"),
        rejects_by_reason={str(k): int(v) for k, v in rejects.items()},
    )
    con.execute(
        "DROP TABLE IF EXISTS ip_normalized; DROP TABLE IF EXISTS ip_contact_values; "
        "DROP TABLE IF EXISTS ip_empty_rows; DROP TABLE IF EXISTS ip_touched; "
        "DROP TABLE IF EXISTS ip_pending_files"
    )
    return report


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
