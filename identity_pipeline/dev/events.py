"""Deterministic, realistic web and app events for demos, tests and benchmarks.

Each row is a seed 003 request body (`platform`, `anonymous_id`, `email`, `phone`, `fbclid`,
`gclid` or `gaclid`, `valuation_properties` = {action, properties}) plus `event_id` and
`created_at`. People have several devices; logins and checkouts reveal emails (some written
in capitals, with spaces or gmail +tags); some people share a family email or a phone; ad
clicks carry click IDs; purchases and add-to-carts carry a value and a currency. A call
centre's phone and QA values (`test@test.com`, `0000000000`, `anonymous`, `null`, `-1`) are
mixed in: stitching must not merge anyone through them.

Rows come from DuckDB SQL (sql/select_generated_events.sql) and are streamed to disk one file
at a time with COPY, so 10M events need no more memory than one file's worth of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from identity_pipeline.dev.files import copy_to_file, file_ranges, writer_connection
from identity_pipeline.dev.generate_contacts import contacts_params
from identity_pipeline.warehouse import execute, select_sql

if TYPE_CHECKING:
    import duckdb

DEFAULT_SEED = 42
DEFAULT_EVENTS_PER_FILE = 1_000_000
EVENTS_PER_PERSON = 12
"""Average events per person; activity is skewed, so most people have fewer."""

EventFormat = Literal["jsonl", "jsonl.gz", "parquet"]
_COPY_OPTIONS: dict[str, str] = {
    "jsonl": "FORMAT json",
    "jsonl.gz": "FORMAT json, COMPRESSION gzip",
    "parquet": "FORMAT parquet",
}


@dataclass(frozen=True)
class GeneratedEvents:
    paths: tuple[Path, ...]
    events: int
    people: int


_NO_CUSTOMERS = (
    "generated_customers AS (SELECT CAST(NULL AS BIGINT) AS person, "
    "CAST(NULL AS VARCHAR) AS email, CAST(NULL AS VARCHAR) AS phone WHERE false)"
)


def events_query(customers: bool = False) -> str:
    """The generator's SELECT, with parameters $seed, $start, $stop and $people.

    With `customers`, it reads temp table generated_customers (see `create_customers`);
    without, nobody is a CRM customer and the query stands alone.
    """
    query = select_sql("identity_pipeline.dev", "select_generated_events.sql")
    if customers:
        return query
    return f"WITH {_NO_CUSTOMERS} SELECT * FROM ({query})"


def create_customers(con: duckdb.DuckDBPyConnection, contacts_rows: int, contacts_seed: int) -> int:
    """Temp table generated_customers (person, email, phone): for each customer of the
    contacts generate_contacts(contacts_rows, seed=contacts_seed) writes, one usable email and
    one international phone of its CRM rows. Returns how many customers there are."""
    contacts = select_sql("identity_pipeline.dev", "select_generated_contacts.sql")
    execute(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE generated_customers AS
        SELECT CAST(substr(customer_id, 2) AS BIGINT) AS person,
            min(email) FILTER (WHERE email LIKE '%_@_%' AND email NOT LIKE '%@%@%') AS email,
            min(phone) FILTER (WHERE phone LIKE '+%') AS phone
        FROM ({contacts})
        GROUP BY customer_id
        """,
        contacts_params(contacts_rows, contacts_seed, 0, contacts_rows),
    )
    row = con.execute("SELECT count(*) FROM generated_customers").fetchone()
    return int(row[0]) if row else 0


def event_params(seed: int, start: int, stop: int, people: int) -> dict[str, object]:
    return {"seed": str(seed), "start": start, "stop": stop, "people": people}


def people_for(events: int) -> int:
    return max(1, events // EVENTS_PER_PERSON)


def generate_events(
    events: int,
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    formats: tuple[EventFormat, ...] = ("jsonl.gz", "parquet"),
    events_per_file: int = DEFAULT_EVENTS_PER_FILE,
    people: int | None = None,
    contacts_rows: int | None = None,
    contacts_seed: int | None = None,
) -> GeneratedEvents:
    """Write `events` events to out_dir/events/, files cycling through `formats`.

    The same seed and count give the same events whatever the file size or formats. With
    `contacts_rows` (and `contacts_seed`, default `seed`), the events' people include the
    customers of the contacts generate_contacts writes with those arguments.
    """
    if events < 1:
        raise ValueError("events must be at least 1")
    if not formats or any(f not in _COPY_OPTIONS for f in formats):
        raise ValueError(f"formats must be among {sorted(_COPY_OPTIONS)}")
    people = people or people_for(events)
    target = out_dir / "events"
    target.mkdir(parents=True, exist_ok=True)
    query = events_query(customers=contacts_rows is not None)
    paths: list[Path] = []
    with writer_connection() as con:
        if contacts_rows is not None:
            create_customers(con, contacts_rows, seed if contacts_seed is None else contacts_seed)
        for index, start, stop in file_ranges(events, max(1, events_per_file)):
            suffix = formats[index % len(formats)]
            path = target / f"events_seed{seed}_{index:04d}.{suffix}"
            params = event_params(seed, start, stop, people)
            paths.append(copy_to_file(con, query, path, _COPY_OPTIONS[suffix], params))
    return GeneratedEvents(tuple(paths), events, people)
