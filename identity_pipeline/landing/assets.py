"""The asset side of landed files: one pass over a landing folder as a Dagster asset, with the
metadata and error log every such asset reports."""

import time
from collections.abc import Callable
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.landing.files import FileReport
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

LandingPass = Callable[[duckdb.DuckDBPyConnection, LandingArea], tuple[FileReport, dict[str, Any]]]
"""Load what is new or changed in the landing area; returns the pass's FileReport and the
asset's own metadata ("dagster/row_count" first)."""

SparkLandingPass = Callable[
    [duckdb.DuckDBPyConnection, LandingArea, SparkResource], tuple[FileReport, dict[str, Any]]
]
"""A LandingPass that also gets the lazy Spark resource (to publish the lake's state)."""


def landed_files_asset(*, group: str, what: str) -> Callable[[LandingPass], AssetsDefinition]:
    """Makes a pass over the landing area a DuckDB asset, named after the function and described
    by its docstring (as @asset does). The asset runs the pass on one connection, logs each
    file that could not be loaded ("{what} file not loaded: path: reason") and reports the
    pass's metadata, the file counts and the seconds taken."""

    def decorate(load: LandingPass) -> AssetsDefinition:
        @asset(name=load.__name__, group_name=group, kinds={"duckdb"}, description=_doc(load))
        def _landed_files(
            context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
        ) -> MaterializeResult[None]:
            return _run_pass(context, warehouse, what, lambda con: load(con, landing))

        return _landed_files

    return decorate


def landed_files_asset_with_spark(
    *, group: str, what: str
) -> Callable[[SparkLandingPass], AssetsDefinition]:
    """landed_files_asset for a pass that needs the Spark resource (lazy: no session, no
    pyspark import, unless the pass asks for one)."""

    def decorate(load: SparkLandingPass) -> AssetsDefinition:
        @asset(name=load.__name__, group_name=group, kinds={"duckdb"}, description=_doc(load))
        def _landed_files(
            context: AssetExecutionContext,
            warehouse: DuckDBWarehouse,
            landing: LandingArea,
            spark: SparkResource,
        ) -> MaterializeResult[None]:
            return _run_pass(context, warehouse, what, lambda con: load(con, landing, spark))

        return _landed_files

    return decorate


def _doc(load: Callable[..., Any]) -> str:
    return " ".join((load.__doc__ or "").split())


def _run_pass(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    what: str,
    load: Callable[[duckdb.DuckDBPyConnection], tuple[FileReport, dict[str, Any]]],
) -> MaterializeResult[None]:
    started = time.perf_counter()
    with warehouse.connect() as con:
        report, metadata = load(con)
    for message in report.files_failed:
        context.log.error(f"{what} file not loaded: {message}")
    return MaterializeResult(
        metadata={
            **metadata,
            **file_metadata(report),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
