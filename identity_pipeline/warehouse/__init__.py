"""The DuckDB warehouse: connections, transactions and the one way to run .sql files.

No Dagster here, and no domain: every package uses this, and this imports none of them.

    connect(path)                       a connection with every package's schema in place
    transaction(con)                    BEGIN/COMMIT, ROLLBACK on error
    settings(con, memory_limit=...)     DuckDB settings for a block, restored after
    read_sql(package, name)             the text of package/sql/name
    run_script(con, package, name, p)   run a .sql file statement by statement, `$name` params
    run_select(con, package, name, p)   run a portable select_*.sql; fetch from the result
    select_sql(package, name)           a select_*.sql as text, to embed in INSERT/CREATE
    execute(con, sql, p)                one statement, binding only the `$name`s it uses
"""

from identity_pipeline.warehouse.connection import (
    WarehouseLockedError,
    connect,
    ensure_schema,
    fingerprint_salt,
    naive_utc,
    open_connection,
    settings,
    transaction,
)
from identity_pipeline.warehouse.sqlfiles import (
    Params,
    execute,
    execute_script,
    read_sql,
    run_script,
    run_select,
    schema_scripts,
    select_sql,
)

__all__ = [
    "Params",
    "WarehouseLockedError",
    "connect",
    "ensure_schema",
    "execute",
    "execute_script",
    "fingerprint_salt",
    "naive_utc",
    "open_connection",
    "read_sql",
    "run_script",
    "run_select",
    "schema_scripts",
    "select_sql",
    "settings",
    "transaction",
]
