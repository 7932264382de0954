"""Spark side of the engine: the Dagster resource and the few operations that differ.

pyspark is imported inside functions only, so importing this module (as the definitions do)
needs neither pyspark nor Java; a session starts on first use of `SparkResource.session()`.

The operations attribution needs beyond a SELECT:
- register an input: a Parquet table (a published snapshot, or a lake table) as a temp view;
- build a cached lookup: a SELECT materialized once (a cached DataFrame) under a temp view
  name, which DuckDB does with CREATE OR REPLACE TEMP TABLE;
- replace a day range of an output: Parquet under <lake>/<table>/day=YYYY-MM-DD/, written
  with partitionOverwriteMode=dynamic so only the run's days are replaced; a day of the range
  with no rows is overwritten by an empty file, so a stale day cannot survive a rerun.

The identity graph's connected components add one more: a DuckDB query's rows as a Spark
DataFrame (`frame_from_duckdb`), moved as Arrow through the session, so it works the same for
a local driver, a cluster or Spark Connect, whatever the lake is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from identity_pipeline.engine.config import SparkSettings, spark_settings

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_CONF: dict[str, str] = {
    # Our SQL means UTC days and naive UTC timestamps.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # Parquet written by DuckDB stores TIMESTAMP as not adjusted to UTC: read it as
    # TIMESTAMP_NTZ, the same naive type as DuckDB's TIMESTAMP (Spark 4's default too).
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
"""Settings every session gets unless the user's conf says otherwise."""


@lru_cache(maxsize=64)
def _transpiled(sql: str) -> str:
    from identity_pipeline.engine.dialect import SPARK

    return SPARK.transpile(sql)


def spark_sql(sql: str) -> str:
    """The Spark SQL of one of our portable DuckDB SELECTs (cached per text)."""
    return _transpiled(sql)


def day_path(table_uri: str, day: date) -> str:
    return f"{table_uri}/day={day.isoformat()}"


class SparkEngine:
    """Run portable SELECTs on one Spark session; tables live under `lake`."""

    name = "spark"

    def __init__(self, session: SparkSession, lake: str) -> None:
        self.session = session
        self.lake = lake.rstrip("/")
        self._cached: dict[str, DataFrame] = {}

    def table_uri(self, table: str) -> str:
        return f"{self.lake}/{table}"

    def register_input(self, name: str, uri: str, columns: Sequence[tuple[str, str]]) -> None:
        """Parquet at `uri` (a file, a folder, or a day-partitioned table) as temp view `name`.

        `columns` are (name, Spark type): the table is read with exactly that schema, so a
        reader never depends on type inference from files or folder names.
        """
        schema = ", ".join(f"`{column}` {kind}" for column, kind in columns)
        frame = self.session.read.schema(schema).parquet(uri)
        frame.createOrReplaceTempView(name)

    def select(self, sql: str, params: Mapping[str, object]) -> DataFrame:
        """One of our portable SELECTs (DuckDB text), converted and bound for Spark."""
        from identity_pipeline.engine.dialect import SparkDialect

        converted = spark_sql(sql)
        return self.session.sql(converted, args=SparkDialect.bind(converted, params))

    def frame_from_duckdb(
        self,
        con: duckdb.DuckDBPyConnection,
        sql: str,
        params: Mapping[str, object] | None = None,
    ) -> DataFrame:
        """The rows of a DuckDB query as a Spark DataFrame with the same column types, sent as
        Arrow (engine.transfer): nothing is written to the lake, so this works for any lake
        URI. The rows pass through this process's memory once: meant for what one machine
        already holds (a run's affected links), not for bulk loads."""
        from identity_pipeline.engine.transfer import frame_from_duckdb

        return frame_from_duckdb(con, self.session, sql, params or {})

    def build_cached_lookup(self, name: str, sql: str, params: Mapping[str, object]) -> int:
        """Materialize a SELECT once as temp view `name`; returns its row count."""
        self.drop_lookup(name)
        frame = self.select(sql, params).cache()
        rows = frame.count()
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame
        return int(rows)

    def drop_lookup(self, name: str) -> None:
        frame = self._cached.pop(name, None)
        if frame is not None:
            self.session.catalog.dropTempView(name)
            frame.unpersist()

    def replace_days(
        self,
        table: str,
        frame: DataFrame,
        start: date,
        end: date,
        columns: Sequence[tuple[str, str]],
    ) -> dict[date, int]:
        """Make <lake>/<table> days [start, end) hold exactly `frame`'s rows; rows per day.

        `frame` is cast to `columns` (name, Spark type; `day` among them), as DuckDB casts on
        INSERT. A row outside [start, end) is an error, not a silent write elsewhere.
        """
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own idiom

        names = [column for column, _ in columns]
        if "day" not in names:
            raise ValueError(f"{table}: a day-partitioned output needs a `day` column")
        missing = sorted(set(names) - set(frame.columns))
        if missing:
            raise ValueError(f"{table}: the SELECT lacks column(s) {', '.join(missing)}")
        conformed = frame.select(
            *[F.col(f"`{column}`").cast(kind).alias(column) for column, kind in columns]
        ).cache()
        try:
            per_day = {
                row["day"]: int(row["rows"])
                for row in conformed.groupBy("day").agg(F.count(F.lit(1)).alias("rows")).collect()
            }
            outside = sorted(d for d in per_day if d is None or not start <= d < end)
            if outside:
                raise ValueError(f"{table}: rows for day(s) outside {start}..{end}: {outside[:3]}")
            uri = self.table_uri(table)
            if per_day:
                (
                    conformed.write.mode("overwrite")
                    .option("partitionOverwriteMode", "dynamic")
                    .partitionBy("day")
                    .parquet(uri)
                )
            empty_days = [
                start + timedelta(days=n)
                for n in range((end - start).days)
                if start + timedelta(days=n) not in per_day
            ]
            # No rows, same columns, planned in the JVM (no Python worker on the cluster).
            empty = conformed.drop("day").limit(0)
            for day in empty_days:
                empty.write.mode("overwrite").parquet(day_path(uri, day))
        finally:
            conformed.unpersist()
        return per_day

    def register_table(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """A day-partitioned lake table this engine writes, as temp view `table`."""
        self.register_input(table, self.table_uri(table), columns)


class SparkResource(ConfigurableResource):  # type: ignore[type-arg]
    """A Spark session for the engine, created on first use and stopped only if we made it.

    Unset fields fall back to the environment (see identity_pipeline.engine.config):
    $SPARK_REMOTE (Spark Connect) or $SPARK_MASTER, $IDENTITY_PIPELINE_LAKE and
    $IDENTITY_PIPELINE_SPARK_CONF. Importing this class does not import pyspark.
    """

    remote: str | None = Field(
        default=None, description="Spark Connect URL (sc://host:port); unset: $SPARK_REMOTE."
    )
    master: str | None = Field(
        default=None,
        description="Master URL (local[*], spark://host:7077); unset: $SPARK_MASTER or local[*]. "
        "Ignored when a Spark Connect URL is set.",
    )
    lake: str | None = Field(
        default=None,
        description="Where Spark tables live (path or URI); unset: $IDENTITY_PIPELINE_LAKE.",
    )
    app_name: str = Field(default="identity_pipeline", description="Spark application name.")
    conf: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Spark settings, on top of $IDENTITY_PIPELINE_SPARK_CONF.",
    )

    _session: Any = PrivateAttr(default=None)
    _owned: bool = PrivateAttr(default=False)
    _pins: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def settings(self) -> SparkSettings:
        return spark_settings(
            remote=self.remote, master=self.master, lake=self.lake, conf=self.conf
        )

    @property
    def started(self) -> bool:
        return self._session is not None

    def session(self) -> SparkSession:
        """The session, started on first call (a Spark Connect session or a classic driver)."""
        if self._session is not None:
            return self._session  # type: ignore[no-any-return]
        settings = self.settings
        conf: dict[str, bool | float | int | str | None] = {**DEFAULT_CONF, **settings.conf}
        from pyspark.sql import SparkSession

        if settings.remote is not None:
            builder = SparkSession.builder.remote(settings.remote).appName(self.app_name)
            # A new Connect session of our own; another one on the same server is untouched.
            session = builder.config(map=conf).create()
            owned = True
        else:
            existing = SparkSession.getActiveSession()
            builder = SparkSession.builder.master(settings.master).appName(self.app_name)
            session = builder.config(map=conf).getOrCreate()
            owned = existing is None
        self._session, self._owned = session, owned
        return session

    def pinned(self, key: str, resolve: Callable[[], str]) -> str:
        """`resolve()` on the first call for `key`, the same answer after: one run's steps
        share this resource, so they all read the snapshot version the first step chose."""
        if key not in self._pins:
            self._pins[key] = resolve()
        return self._pins[key]

    def engine(self) -> SparkEngine:
        return SparkEngine(self.session(), self.settings.lake)

    def stop(self) -> None:
        """Stop the session if this resource started it; a borrowed one keeps running."""
        session, owned = self._session, self._owned
        self._session, self._owned = None, False
        if session is not None and owned:
            session.stop()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.stop()
