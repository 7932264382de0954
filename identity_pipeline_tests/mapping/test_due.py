"""mapping/sql/create_due_macros.sql: the due rule UID2 and ID5 share, on a real DuckDB
connection (each service's due list, through mapping.due.rebuild_due_list, is tested in
uid2/ and id5/)."""

from datetime import datetime

import duckdb

from identity_pipeline.warehouse import execute, run_script


def test_never_sent_or_refused_and_seen_again_else_null() -> None:
    con = duckdb.connect()
    run_script(con, "identity_pipeline.mapping", "create_due_macros.sql")
    con.execute(
        "CREATE TABLE d (dii_id BIGINT, last_seen_at TIMESTAMP); "
        "CREATE TABLE m (dii_id BIGINT, status VARCHAR, mapped_at TIMESTAMP, "
        "source_seen_at TIMESTAMP)"
    )
    params = {"before": datetime(2026, 1, 1), "day": datetime(2026, 1, 10)}
    execute(con, "INSERT INTO d SELECT i, $day FROM range(1, 6) AS t(i)", params)
    execute(
        con,
        """
        INSERT INTO m VALUES
            (2, 'failed', $before, $before),  -- refused, then carried by newer data
            (3, 'failed', $before, $day),     -- refused, nothing newer since
            (4, 'failed', $before, NULL),     -- refused, no source time: mapped_at counts
            (5, 'mapped', $before, $before)   -- mapped: the service's own rule decides
        """,
        params,
    )

    rows = con.execute(
        """
        SELECT d.dii_id, mapping_due_reason(m.dii_id, m.status = 'failed', d.last_seen_at,
                                            m.source_seen_at, m.mapped_at)
        FROM d LEFT JOIN m ON m.dii_id = d.dii_id ORDER BY 1
        """
    ).fetchall()

    assert rows == [
        (1, "never_mapped"),
        (2, "seen_again"),
        (3, None),
        (4, "seen_again"),
        (5, None),
    ]
