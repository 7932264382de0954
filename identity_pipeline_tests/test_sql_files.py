"""Every .sql file is named for what it does, and every select_*.sql is one portable SELECT."""

from pathlib import Path

import pytest

from identity_pipeline.warehouse import execute_script, schema_scripts, select_sql

PACKAGE = Path(__file__).resolve().parents[1] / "identity_pipeline"
SQL_FILES = sorted(PACKAGE.glob("*/sql/*.sql"))
VERBS = ("select_", "create_", "merge_into_", "delete_", "insert_")


def test_there_are_sql_files():
    assert len(SQL_FILES) > 20


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_sql_file_names_start_with_a_verb(path: Path):
    assert path.name.startswith(VERBS)


@pytest.mark.parametrize(
    "path",
    [p for p in SQL_FILES if p.name.startswith("select_")],
    ids=lambda p: f"{p.parent.parent.name}/{p.name}",
)
def test_select_files_are_one_select_statement(path: Path):
    sql = select_sql(f"identity_pipeline.{path.parent.parent.name}", path.name)
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    assert ";" not in body
    assert body.lstrip().upper().startswith(("SELECT", "WITH"))


def test_select_sql_refuses_other_verbs():
    with pytest.raises(ValueError, match="select_"):
        select_sql("identity_pipeline.uid2", "create_uid2_pending.sql")


def test_every_package_registers_its_own_tables_and_views_come_last():
    scripts = schema_scripts()
    tables = [s for s in scripts if "CREATE TABLE" in s]
    views = [s for s in scripts if "CREATE OR REPLACE VIEW" in s]
    assert len(tables) == len(list(PACKAGE.glob("*/sql/create_tables.sql")))
    assert views and list(scripts[-len(views) :]) == views


def test_scripts_bind_only_the_parameters_each_statement_uses():
    import duckdb

    con = duckdb.connect()
    execute_script(
        con,
        "CREATE TABLE t AS SELECT $a AS a;\nINSERT INTO t SELECT $b;\n-- $c unused\n",
        {"a": 1, "b": 2, "c": 3},
    )
    assert con.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]
