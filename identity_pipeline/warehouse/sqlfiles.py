"""The one way to run our .sql files: load by (package, name), bind `$name` parameters.

Every .sql file lives in a package's `sql/` folder and is named for what it does:
`select_*` (a portable SELECT a second engine can run as it is, no trailing work), `create_*`
(tables, temp tables, views, macros), `merge_into_*`, `insert_*`, `delete_*`. Parameters are
always `$name`, bound from a dict; a statement gets only the names it uses.

Schema: each package registers its own tables by shipping `sql/create_tables.sql` (and views
over other packages' tables in `sql/create_views.sql`); `schema_scripts` finds them, so no
central list names the domains. Tables come first, then views, each in package-name order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

import duckdb

ROOT_PACKAGE = "identity_pipeline"
SCHEMA_FILES = ("create_tables.sql", "create_views.sql")
"""File names a package's sql/ folder may hold to register its schema, in the order they run."""

Params = Mapping[str, object]

_PARAM = re.compile(r"\$(\w+)")


@cache
def read_sql(package: str, name: str) -> str:
    """The text of `name` in `package`'s sql/ folder, e.g. ("identity_pipeline.uid2", ...)."""
    return files(package).joinpath("sql", name).read_text(encoding="utf-8")


def select_sql(package: str, name: str) -> str:
    """A portable `select_*.sql` as one statement without its trailing semicolon, to embed
    (`INSERT INTO t BY NAME {select}`, `CREATE TEMP TABLE t AS {select}`)."""
    if not name.startswith("select_"):
        raise ValueError(f"{name}: only select_*.sql files are portable SELECTs")
    return read_sql(package, name).strip().rstrip(";")


def bound(sql: str, params: Params | None) -> dict[str, object]:
    """The parameters `sql` uses, by their `$name`."""
    used = set(_PARAM.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in used}


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Params | None = None
) -> duckdb.DuckDBPyConnection:
    """One statement with `$name` parameters; returns the connection to fetch from."""
    values = bound(sql, params)
    return con.execute(sql, values) if values else con.execute(sql)


def execute_script(
    con: duckdb.DuckDBPyConnection, script: str, params: Params | None = None
) -> None:
    """Run a multi-statement script, binding `$name` parameters per statement.

    Statements end with a semicolon at the end of a line; our SQL files keep to that.
    """
    for statement in re.split(r";\s*\n", script):
        body = "\n".join(
            line for line in statement.splitlines() if not line.lstrip().startswith("--")
        ).strip()
        if body:
            execute(con, body, params)


def run_script(
    con: duckdb.DuckDBPyConnection, package: str, name: str, params: Params | None = None
) -> None:
    """Run a package's .sql file (any verb), statement by statement."""
    execute_script(con, read_sql(package, name), params)


def run_select(
    con: duckdb.DuckDBPyConnection, package: str, name: str, params: Params | None = None
) -> duckdb.DuckDBPyConnection:
    """Run a package's `select_*.sql`; fetch the rows from the returned connection."""
    return execute(con, select_sql(package, name), params)


@cache
def schema_scripts() -> tuple[str, ...]:
    """Every package's schema files: all create_tables.sql, then all create_views.sql."""
    root = files(ROOT_PACKAGE)
    folders = sorted((f for f in root.iterdir() if f.is_dir()), key=lambda f: f.name)
    scripts: list[str] = []
    for name in SCHEMA_FILES:
        for folder in folders:
            candidate = folder.joinpath("sql", name)
            if candidate.is_file():
                scripts.append(candidate.read_text(encoding="utf-8"))
    return tuple(scripts)
