"""The pipeline's side of the identity service: asset `identity_service_snapshot`.

After each graph refresh it publishes the graph, persons and journal from the warehouse into
the folder the service reads (`$IDENTITY_SERVICE_GRAPH`, one setting for both), so the
service never opens the warehouse. The serving process does not import this module.
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from identity_pipeline import settings
from identity_pipeline.resources import DuckDBWarehouse
from identity_pipeline.service.snapshot import publish_from_pipeline

GROUP = "identity_graph"


@asset(
    group_name=GROUP,
    deps=["persons", "person_journal"],
    description="The identity service's serving copy of the graph: identifier -> person, "
    "persons with visits, person_merges, hubs, and each person's journal (payloads as sent, "
    f"so raw emails and phones) in ${settings.ENV_SERVICE_GRAPH}; the service swaps it in.",
)
def identity_service_snapshot(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult[None]:
    graph_dir = settings.service_graph_path()
    with warehouse.connect() as con:
        published = publish_from_pipeline(con, graph_dir)
    context.log.info(
        f"published graph {published.folder.name}: {published.persons} persons, "
        f"{published.journal_entries} journal entries"
    )
    return MaterializeResult(
        metadata={
            "version": published.folder.name,
            "persons": published.persons,
            "identifiers": published.identifiers,
            "journal_entries": published.journal_entries,
            "ingested_service_segments": published.ingested_segments,
            "folder": MetadataValue.path(str(graph_dir.resolve())),
        }
    )
