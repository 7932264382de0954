"""Rows between DuckDB and a Spark session, as Arrow record batches (no files in between).

DuckDB -> Spark: a query's result is read in record batches; each batch becomes a Spark
DataFrame through `createDataFrame`, which both a classic driver and Spark Connect accept
(over Connect the batch travels in the plan, so nothing needs the client's file system).
Spark -> DuckDB: `DataFrame.toArrow()` and an INSERT BY NAME from the Arrow table.

pyspark is imported inside functions only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

BATCH_ROWS = 500_000
"""Rows per DataFrame sent to Spark: bounded driver and Connect message sizes."""


def spark_frame(session: SparkSession, table: pa.Table) -> DataFrame:
    """An Arrow table as a Spark DataFrame of the same types. A naive TIMESTAMP stays naive
    (TIMESTAMP_NTZ), whatever the session's spark.sql.timestampType says."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return session.createDataFrame(
        table, schema=from_arrow_schema(table.schema, prefer_timestamp_ntz=True)
    )


def frames_from_duckdb(
    con: duckdb.DuckDBPyConnection,
    session: SparkSession,
    sql: str,
    params: Sequence[object] = (),
    batch_rows: int = BATCH_ROWS,
) -> Iterator[DataFrame]:
    """The rows of a DuckDB query as Spark DataFrames of up to `batch_rows` rows each; a query
    without rows gives one empty DataFrame with the query's columns."""
    import pyarrow as pa

    reader = con.sql(sql, params=list(params)).to_arrow_reader(batch_rows)
    sent = False
    for batch in reader:
        if batch.num_rows:
            sent = True
            yield spark_frame(session, pa.Table.from_batches([batch]))
    if not sent:
        yield spark_frame(session, reader.schema.empty_table())


def frame_from_duckdb(
    con: duckdb.DuckDBPyConnection,
    session: SparkSession,
    sql: str,
    params: Sequence[object] | Mapping[str, object] = (),
) -> DataFrame:
    """All rows of a DuckDB query as one Spark DataFrame (the caller bounds its size);
    `params` positional (?) or named ($name). The schema is given, not inferred: Spark
    Connect cannot infer one from no rows."""
    bound = dict(params) if isinstance(params, Mapping) else list(params)
    return spark_frame(session, con.sql(sql, params=bound).to_arrow_table())


def arrow_from_spark(frame: DataFrame) -> pa.Table:
    """A Spark DataFrame's rows, collected to this process as Arrow."""
    return frame.toArrow()


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append Arrow rows (say, from arrow_from_spark) to DuckDB's `table`, columns matched by
    name; DuckDB casts to the table's types."""
    con.register("_spark_rows", rows)
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _spark_rows')
    finally:
        con.unregister("_spark_rows")
