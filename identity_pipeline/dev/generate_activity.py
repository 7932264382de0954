"""Sample impressions/ and conversions/ files for the generated contacts, true to the sandboxes.

An impression served on day d carries the ad id the sandboxes give that person on day d: the
UID2 of that day (SaltModel) or the ID5 uid of that moment (ID5UidModel). Mapping at a later
`now` then sees some of them as the previous UID2 (the salt bucket rotated in between) or an
older ID5 uid, exactly as a real pipeline would. Contacts are rebuilt from the same seed and
normalized with the same code as `dii`, so identities match what ingestion produces.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from identity_pipeline.dev.files import copy_to_file
from identity_pipeline.dev.generate_contacts import DISTINCT_PEOPLE_RATIO
from identity_pipeline.normalize.values import normalize_table
from identity_pipeline.sandboxes.id5 import ID5SandboxConfig, ID5UidModel
from identity_pipeline.sandboxes.uid2 import DAY_S, SaltModel, UID2SandboxConfig
from identity_pipeline.sandboxes.uid2_envelope import EMAIL, PHONE
from identity_pipeline.warehouse import execute, run_script, select_sql

SQL_PACKAGE = "identity_pipeline.dev"
KNOWN_PERCENT = 70
"""Share of impressions that reach one of our customers; the rest reach strangers."""
ID5_PERCENT = 35
CAMPAIGNS = 12
CONVERSION_PERMILLE = 30
"""Known impressions that lead to a conversion, per thousand."""


@dataclass(frozen=True)
class GeneratedActivity:
    paths: tuple[Path, ...]
    impressions: int
    conversions: int
    known_impressions: int
    previous_uid2_impressions: int
    """Known impressions whose UID2 is no longer current at `now` (a rotation since)."""
    older_id5_impressions: int
    """Known impressions whose ID5 uid is no longer the one the sandbox answers at `now`."""


def contact_identities(con: duckdb.DuckDBPyConnection, rows: int, seed: int) -> int:
    """Temp table gen_identities: the valid identities of `generate --rows rows --seed seed`.

    Same SQL and normalization as ingestion, so (uid2_hash, dii_type) match `dii`. Returns
    the number of distinct customers.
    """
    query = select_sql(SQL_PACKAGE, "select_generated_contacts.sql")
    people = max(1, int(rows * DISTINCT_PEOPLE_RATIO))
    execute(
        con,
        f"CREATE OR REPLACE TEMP TABLE gen_contacts AS {query}",
        {"seed": str(seed), "start": 0, "stop": rows, "people": people},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gen_values AS
        SELECT customer_id, 'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region
        FROM gen_contacts WHERE nullif(trim(email), '') IS NOT NULL
        UNION ALL
        SELECT customer_id, 'phone', phone, country
        FROM gen_contacts WHERE nullif(trim(phone), '') IS NOT NULL
        """
    )
    normalize_table(con, "gen_values", "gen_normalized", "US")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE gen_identities AS
        WITH distinct_ids AS (
            SELECT DISTINCT customer_id, dii_type, uid2_hash, id5_hash
            FROM gen_normalized WHERE error IS NULL
        )
        SELECT dense_rank() OVER (ORDER BY customer_id) - 1 AS customer_no, customer_id,
               dii_type, uid2_hash, id5_hash,
               row_number() OVER (PARTITION BY customer_id ORDER BY dii_type, uid2_hash) - 1
                   AS identity_rank,
               count(*) OVER (PARTITION BY customer_id) AS identities
        FROM distinct_ids
        """
    )
    con.execute("DROP TABLE gen_contacts; DROP TABLE gen_values; DROP TABLE gen_normalized")
    row = con.execute("SELECT count(DISTINCT customer_no) FROM gen_identities").fetchone()
    return int(row[0]) if row else 0


def _day_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _assign_ids(
    con: duckdb.DuckDBPyConnection, uid2: SaltModel, id5: ID5UidModel, now: datetime
) -> None:
    """Fill in known impressions' ids from the sandboxes, and whether `now` sees them as stale
    (a previous UID2, an older ID5 uid)."""
    now_s = now.timestamp()
    keys: list[str] = []
    ids: list[str] = []
    stale: list[bool] = []
    for uid2_hash, dii_type, day in con.execute(
        "SELECT DISTINCT uid2_hash, dii_type, day FROM gen_impressions "
        "WHERE customer_no IS NOT NULL AND id_type = 'uid2'"
    ).fetchall():
        digest = base64.b64decode(uid2_hash)
        kind = EMAIL if dii_type == "email" else PHONE
        served = uid2.map(digest, kind, _day_s(day) + DAY_S / 2).current
        keys.append(f"uid2|{uid2_hash}|{day}")
        ids.append(served)
        stale.append(served != uid2.map(digest, kind, now_s).current)
    for id5_hash, ts in con.execute(
        "SELECT DISTINCT id5_hash, ts FROM gen_impressions "
        "WHERE customer_no IS NOT NULL AND id_type = 'id5'"
    ).fetchall():
        served = id5.uid(id5_hash, ts.replace(tzinfo=UTC).timestamp() / DAY_S)
        keys.append(f"id5|{id5_hash}|{ts.isoformat()}")
        ids.append(served)
        stale.append(served != id5.uid(id5_hash, now_s / DAY_S))
    con.register("gen_ids_arrow", pa.table({"key": keys, "served_id": ids, "stale": stale}))
    con.execute(
        """
        ALTER TABLE gen_impressions ADD COLUMN stale BOOLEAN;
        UPDATE gen_impressions AS i SET id = a.served_id, stale = a.stale
        FROM gen_ids_arrow AS a
        WHERE i.customer_no IS NOT NULL AND a.key = CASE i.id_type
            WHEN 'uid2' THEN 'uid2|' || i.uid2_hash || '|' || CAST(i.day AS VARCHAR)
            ELSE 'id5|' || i.id5_hash || '|' || strftime(i.ts, '%Y-%m-%dT%H:%M:%S') END
        """
    )
    con.unregister("gen_ids_arrow")


def _write_days(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, target: Path, days: list[date]
) -> list[Path]:
    """One file per day; impressions alternate CSV and Parquet, conversions are CSV."""
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, day in enumerate(days):
        parquet = table == "gen_impressions" and index % 2 == 1
        path = target / f"{target.name}_{day.isoformat()}.{'parquet' if parquet else 'csv'}"
        ts = "ts" if parquet else "strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts"
        options = "FORMAT parquet" if parquet else "FORMAT csv, HEADER true"
        query = (
            f"SELECT {columns.replace('ts,', ts + ',')} FROM {table} WHERE day = $day ORDER BY ts"
        )
        paths.append(copy_to_file(con, query, path, options, {"day": day}))
    return paths


def generate_activity(
    out_dir: Path,
    *,
    contacts_rows: int,
    contacts_seed: int,
    days: int,
    start: date,
    now: datetime,
    seed: int = 42,
    impressions_per_day: int | None = None,
    uid2_seed: int = UID2SandboxConfig.seed,
    id5_config: ID5SandboxConfig | None = None,
) -> GeneratedActivity:
    """Write out_dir/impressions/ and out_dir/conversions/, one file per day from `start`."""
    if days < 1:
        raise ValueError("--days must be at least 1")
    per_day = impressions_per_day or max(50, contacts_rows // 10)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")
        customers = contact_identities(con, contacts_rows, contacts_seed)
        params: dict[str, object] = {
            "seed": str(seed),
            "days": days,
            "per_day": per_day,
            "start": start,
            "customers": max(1, customers),
            "campaigns": CAMPAIGNS,
            "known_pct": KNOWN_PERCENT if customers else 0,
            "id5_pct": ID5_PERCENT,
            "conversion_permille": CONVERSION_PERMILLE,
            "organic": max(1, per_day * days // 200) if customers else 0,
        }
        run_script(con, SQL_PACKAGE, "create_generated_activity.sql", params)
        _assign_ids(con, SaltModel(uid2_seed), ID5UidModel(id5_config), now)
        day_list = [start + timedelta(days=n) for n in range(days)]
        paths = _write_days(
            con,
            "gen_impressions",
            "impression_id, ts, campaign_id, id_type, id, cost",
            out_dir / "impressions",
            day_list,
        )
        conversion_days = [
            row[0]
            for row in con.execute("SELECT DISTINCT day FROM gen_conversions ORDER BY 1").fetchall()
        ]
        paths += _write_days(
            con,
            "gen_conversions",
            "conversion_id, ts, customer_id, uid2_hash, value, currency",
            out_dir / "conversions",
            conversion_days,
        )
        counts = con.execute(
            "SELECT count(*), (SELECT count(*) FROM gen_conversions), count(customer_no), "
            "count(*) FILTER (WHERE stale AND id_type = 'uid2'), "
            "count(*) FILTER (WHERE stale AND id_type = 'id5') FROM gen_impressions"
        ).fetchall()[0]
    finally:
        con.close()
    return GeneratedActivity(
        paths=tuple(paths),
        impressions=int(counts[0]),
        conversions=int(counts[1]),
        known_impressions=int(counts[2]),
        previous_uid2_impressions=int(counts[3]),
        older_id5_impressions=int(counts[4]),
    )
