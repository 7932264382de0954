"""The asset side of landed files: one pass over a landing folder as a Dagster asset, with the
metadata and error log every such asset reports."""

import time
from collections.abc import Callable
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from identity_pipeline.landing.files import FileReport
from identity_pipeline.landing.sensors import file_metadata
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

LandingPass = Callable[[duckdb.DuckDBPyConnection, LandingArea], tuple[FileReport, dict[str, Any]]]
"""Load what is new or changed in the landing area; returns the pass's FileReport and the
asset's own metadata ("dagster/row_count" first)."""


def landed_files_asset(*, group: str, what: str) -> Callable[[LandingPass], AssetsDefinition]:
    """Makes a pass over the landing area a DuckDB asset, named after the function and described
    by its docstring (as @asset does). The asset runs the pass on one connection, logs each
    file that could not be loaded ("{what} file not loaded: path: reason") and reports the
    pass's metadata, the file counts and the seconds taken."""

    def decorate(load: LandingPass) -> AssetsDefinition:
        description = " ".join((load.__doc__ or "").split())

        @asset(name=load.__name__, group_name=group, kinds={"duckdb"}, description=description)
        def _landed_files(
            context: AssetExecutionContext, warehouse: DuckDBWarehouse, landing: LandingArea
        ) -> MaterializeResult[None]:
            started = time.perf_counter()
            with warehouse.connect() as con:
                report, metadata = load(con, landing)
            for message in report.files_failed:
                context.log.error(f"{what} file not loaded: {message}")
            return MaterializeResult(
                metadata={
                    **metadata,
                    **file_metadata(report),
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )

        return _landed_files

    return decorate
