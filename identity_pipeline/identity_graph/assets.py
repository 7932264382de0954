"""The identity graph's Dagster assets: identity_graph (with its new-hubs check), persons and
person_journal. Unpartitioned: the graph is global; events keep their `day` column. With
$IDENTITY_PIPELINE_ENGINE=spark the graph's connected components run on Spark; its metadata
says which engine ran them."""

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from identity_pipeline.engine.config import engine_name
from identity_pipeline.engine.spark import SparkResource
from identity_pipeline.engine.state import publish_state
from identity_pipeline.identity_graph.refresh import (
    GraphRefresh,
    TableRefresh,
    refresh_graph,
    refresh_journal,
    refresh_persons,
)
from identity_pipeline.identity_graph.rules import (
    ANY_TYPE,
    DEFAULT_BLOCKED_PATTERNS,
    DEFAULT_MAX_LINKS,
    ID_TYPES,
    StitchingRules,
)
from identity_pipeline.resources import DuckDBWarehouse, LandingArea

GROUP = "identity_graph"
NEW_HUBS_CHECK = "no_new_hubs"
MAX_HUBS_SHOWN = 50


class IdentityGraphConfig(Config):
    """How the identity_graph asset stitches (README "Identity graph")."""

    full_rebuild: bool = Field(
        default=False,
        description="Rebuild identifiers, links, hubs and persons from every raw event and CRM "
        "link instead of only the new ones. Person IDs stay the same. Run it after changing "
        "the rules below.",
    )
    blocked_patterns: dict[str, list[str]] | None = Field(
        default=None,
        description="RE2 patterns of values that link nothing, by identifier type "
        f"({', '.join(ID_TYPES)}) or '{ANY_TYPE}' for every type; matched against the trimmed "
        "or normalized value before hashing (emails as UID2 normalizes them, phones as E.164 "
        "digits without '+'). Unset keeps the defaults (rules.DEFAULT_BLOCKED_PATTERNS); a "
        "mapping replaces them all.",
    )
    max_links: dict[str, int] = Field(
        default_factory=dict,
        description="Per identifier type, how many distinct identifiers of that type one "
        "identifier may link before it is a hub (and links nothing). Types left out keep "
        f"their defaults ({', '.join(f'{k} {v}' for k, v in DEFAULT_MAX_LINKS.items())}).",
    )

    def rules(self) -> StitchingRules:
        patterns = (
            DEFAULT_BLOCKED_PATTERNS
            if self.blocked_patterns is None
            else tuple(
                (id_type, pattern)
                for id_type, listed in sorted(self.blocked_patterns.items())
                for pattern in listed
            )
        )
        return StitchingRules(
            blocked_patterns=patterns, max_links={**DEFAULT_MAX_LINKS, **self.max_links}
        )


class PersonTablesConfig(Config):
    full_rebuild: bool = Field(
        default=False,
        description="Rebuild every person's rows instead of only those of persons the stitch "
        "runs since the last refresh changed.",
    )


def _hubs_markdown(hubs: GraphRefresh) -> str:
    lines = [
        "| id_type | id_value | reason | linked_type | fan_out | max_links |",
        "|---|---|---|---|---:|---:|",
    ]
    for id_type, value, reason, linked_type, fan_out, max_links in hubs.new_hubs[:MAX_HUBS_SHOWN]:
        lines.append(
            f"| {id_type} | `{value}` | {reason} | {linked_type or ''} | {fan_out} | "
            f"{'' if max_links is None else max_links} |"
        )
    if len(hubs.new_hubs) > MAX_HUBS_SHOWN:
        lines.append(f"\n{len(hubs.new_hubs) - MAX_HUBS_SHOWN} more in identity_hubs")
    return "\n".join(lines)


@asset(
    name="identity_graph",
    group_name=GROUP,
    deps=["identity_events", "customer_dii", "dii"],
    kinds={"duckdb"},
    check_specs=[
        AssetCheckSpec(
            NEW_HUBS_CHECK,
            asset="identity_graph",
            description="Warns (never blocks) when this run found new hubs: identifiers that "
            "match a blocked value or link too many others, listed with reason and fan-out. "
            "Emails and phones appear as their hash.",
        )
    ],
    description="Identifier -> person_id: every raw event and CRM link (customer_dii) not "
    "stitched yet, stitched into persons with stable UUIDs (identity_identifiers, "
    "identity_links, identity_hubs, identity_graph, identity_persons, person_merges).",
)
def identity_graph(
    context: AssetExecutionContext,
    config: IdentityGraphConfig,
    warehouse: DuckDBWarehouse,
    landing: LandingArea,
    spark: SparkResource,
) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    rules = config.rules()
    engine = engine_name()
    # Started before DuckDB is opened; only the components run there (refresh.py).
    on_spark = spark.engine() if engine == "spark" else None
    with warehouse.connect() as con:
        result = refresh_graph(
            con,
            rules=rules,
            full_rebuild=config.full_rebuild,
            default_region=landing.phone_region,
            spark=on_spark,
        )
        published = publish_state(con, spark)  # the Spark engine's attribution reads the new graph
    report = result.stitch
    context.log.info(
        f"stitch run {result.stitch_run}: {report.events} events, {result.crm_links} CRM links, "
        f"{report.new_identifiers} new identifiers, {report.new_hubs} new hubs, "
        f"{report.persons} persons"
    )
    yield MaterializeResult(
        metadata={
            "engine": engine,
            **({"spark": spark.settings.target} if on_spark else {}),
            "dagster/row_count": report.persons,
            "full_rebuild": config.full_rebuild,
            "stitch_run": result.stitch_run,
            "events": report.events,
            "crm_links": result.crm_links,
            "identifiers": report.identifiers,
            "new_identifiers": report.new_identifiers,
            "links": report.links,
            "new_hubs": report.new_hubs,
            "persons": report.persons,
            "restitched_identifiers": report.restitched_identifiers,
            "changes_by_reason": MetadataValue.json(report.changes_by_reason),
            "raw_events_ingest_seq": result.raw_events_position,
            "seconds": round(report.seconds, 3),
            **published,
        }
    )
    by_reason: dict[str, int] = {}
    for _, _, reason, _, _, _ in result.new_hubs:
        by_reason[reason] = by_reason.get(reason, 0) + 1
    yield AssetCheckResult(
        check_name=NEW_HUBS_CHECK,
        passed=not result.new_hubs,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "new_hubs": len(result.new_hubs),
            "by_reason": MetadataValue.json(by_reason),
            "hubs": MetadataValue.md(_hubs_markdown(result) if result.new_hubs else "none"),
        },
    )


def _table_metadata(refreshed: TableRefresh) -> dict[str, Any]:
    return {
        "dagster/row_count": refreshed.rows_total,
        "full_rebuild": refreshed.full,
        "persons_refreshed": refreshed.persons_refreshed,
        "rows_written": refreshed.rows_written,
        "stitch_run": refreshed.stitch_run,
    }


def _multi_device_persons(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute("SELECT count(*) FROM persons WHERE anonymous_ids > 1").fetchone()
    return {"multi_device_persons": int(row[0]) if row else 0}


def _person_table(
    name: str,
    refresh: Callable[..., TableRefresh],
    description: str,
    figures: Callable[[duckdb.DuckDBPyConnection], dict[str, Any]] | None = None,
) -> AssetsDefinition:
    """persons and person_journal: rebuild the rows of the persons the graph changed (all of
    them with full_rebuild), with the refresh's figures and any of the table's own."""

    @asset(
        name=name,
        group_name=GROUP,
        deps=[identity_graph, "identity_events"],
        kinds={"duckdb"},
        description=description,
    )
    def _table(config: PersonTablesConfig, warehouse: DuckDBWarehouse) -> MaterializeResult[None]:
        with warehouse.connect() as con:
            refreshed = refresh(con, full=config.full_rebuild)
            own = figures(con) if figures else {}
        return MaterializeResult(metadata={**_table_metadata(refreshed), **own})

    return _table


persons = _person_table(
    "persons",
    refresh_persons,
    "One row per live person: anchor, first/last seen, events, visits (sessions: 30 minutes "
    "without an event ends one), identifier counts per type, linked dii_ids and customer_ids. "
    "Only persons the graph changed are rebuilt.",
    _multi_device_persons,
)

person_journal = _person_table(
    "person_journal",
    refresh_journal,
    "Each person's events with platform, action, properties, value, currency and visit number; "
    "read newest first with ORDER BY created_at DESC, event_id DESC. Only persons the graph "
    "changed are rebuilt.",
)
