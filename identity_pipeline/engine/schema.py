"""Table types: the DuckDB DDL (sql/create_tables.sql of each package) is the one declaration.

Spark outputs are cast to these types before they are written, as DuckDB casts on INSERT,
so a table has the same column types on both engines. No pyspark import here.
"""

from __future__ import annotations

import re
from functools import cache

import duckdb

from identity_pipeline.warehouse import ensure_schema

_SIMPLE = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP_NTZ",  # naive UTC on both engines
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "BLOB": "BINARY",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def spark_type(duckdb_type: str) -> str:
    """The Spark SQL type a DuckDB column type is stored as; unknown types fail loudly."""
    name = duckdb_type.strip().upper()
    if name in _SIMPLE:
        return _SIMPLE[name]
    decimal = _DECIMAL.fullmatch(name)
    if decimal:
        return f"DECIMAL({decimal.group(1)},{decimal.group(2)})"
    raise ValueError(f"no Spark type for DuckDB type {duckdb_type!r}")


@cache
def declared_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(column, DuckDB type) of a warehouse table, in order, from the schema scripts."""
    with duckdb.connect() as con:
        ensure_schema(con)
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    if not rows:
        raise ValueError(f"no table {table!r} in the warehouse schema")
    return tuple((str(name), str(kind)) for name, kind in rows)


def spark_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(column, Spark type) of a warehouse table."""
    return tuple((name, spark_type(kind)) for name, kind in declared_columns(table))
