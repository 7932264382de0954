"""Where attribution SQL runs: DuckDB (the default, in process) or Apache Spark.

Nothing here imports pyspark or sqlglot at module level: they come with the `spark` extra and
are imported only when the engine is spark. `config` reads the engine settings from the
environment; `dialect` turns our portable DuckDB SELECTs into Spark SQL; `spark` holds the
`SparkResource` and the few operations that differ between engines (register an input, build
a cached lookup, replace a day range of an output).
"""
