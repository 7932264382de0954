"""Normalization and hashing of emails and phones, bit-exact with the uid2-client SDK.

The bulk runs as DuckDB SQL (macros in sql/create_normalize_macros.sql). Python handles only
what SQL cannot: phone numbers that are not already ASCII E.164, which need real numbering-plan
knowledge from `phonenumbers`. The `dii` asset and the `hash` command both call
`normalize_table`, so they cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import duckdb

from identity_pipeline.warehouse import read_sql

PHONE_UNPARSEABLE: Final = "phone_unparseable"
PHONE_INVALID: Final = "phone_invalid"
PHONE_TOO_SHORT: Final = "phone_too_short_for_uid2"
PHONE_COUNTRY_UNKNOWN: Final = "phone_country_unknown"


@cache
def _supported_regions() -> frozenset[str]:
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("identity_pipeline.contacts", "create_normalize_macros.sql"))


def normalize_phone(value: str, region: str | None) -> tuple[str | None, str | None]:
    """Return (E.164, None) or (None, reason).

    Anything the SDK already accepts is returned unchanged so its hash matches the SDK's.
    Other values are parsed with the row's region (ISO alpha-2) and must be valid numbers.
    phonenumbers and the SDK load here, not at import, so email-only work starts faster.
    """
    import phonenumbers
    from uid2_client.input_util import is_phone_number_normalized

    if is_phone_number_normalized(value):
        return value, None
    if region is not None and region not in _supported_regions():
        if not value.lstrip().startswith("+"):
            return None, PHONE_COUNTRY_UNKNOWN
        region = None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None, PHONE_UNPARSEABLE
    if not phonenumbers.is_valid_number(number):
        return None, PHONE_INVALID
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not is_phone_number_normalized(e164):
        return None, PHONE_TOO_SHORT
    return e164, None


def _normalize_phone_minority(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Fill temp table ip_phone_fixes for each distinct non-E.164 (value, region) pair."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ip_phone_pending AS
        SELECT DISTINCT value, region FROM {source}
        WHERE dii_type = 'phone' AND value IS NOT NULL AND NOT ip_is_e164_ascii(value)
        """
    )
    (count,) = con.execute("SELECT count(*) FROM ip_phone_pending").fetchall()[0]
    if count == 0:  # email-only input: no Python, no pyarrow
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ip_phone_fixes "
            "(value VARCHAR, region VARCHAR, normalized VARCHAR, error VARCHAR)"
        )
        return
    import pyarrow as pa

    pending = con.sql("SELECT * FROM ip_phone_pending").to_arrow_table()
    values = pending.column("value").to_pylist()
    regions = pending.column("region").to_pylist()
    normalized: list[str | None] = []
    errors: list[str | None] = []
    for value, region in zip(values, regions, strict=True):
        fixed, error = normalize_phone(value, region)
        normalized.append(fixed)
        errors.append(error)
    fixes = pa.table(
        {
            "value": pa.array(values, pa.string()),
            "region": pa.array(regions, pa.string()),
            "normalized": pa.array(normalized, pa.string()),
            "error": pa.array(errors, pa.string()),
        }
    )
    con.register("ip_phone_fixes_arrow", fixes)
    con.execute("CREATE OR REPLACE TEMP TABLE ip_phone_fixes AS SELECT * FROM ip_phone_fixes_arrow")
    con.unregister("ip_phone_fixes_arrow")


def normalize_table(
    con: duckdb.DuckDBPyConnection, source: str, target: str, default_region: str
) -> None:
    """Create temp table `target` = every row of `source` plus normalized, hashes and error.

    `source` must have columns `value`, `dii_type` ('email' | 'phone' | NULL to infer: values
    with an '@' are emails) and `region` (NULL: use default_region). Row count and all other
    columns are preserved. `source` and `target` are our own table names, never user input.
    """
    install_macros(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ip_typed AS
        SELECT * REPLACE (
            coalesce(dii_type, CASE WHEN contains(value, '@') THEN 'email' ELSE 'phone' END)
                AS dii_type,
            coalesce(nullif(upper(trim(region)), ''), ?) AS region
        )
        FROM {source}
        """,
        [default_region],
    )
    _normalize_phone_minority(con, "ip_typed")
    con.execute(read_sql("identity_pipeline.contacts", "normalize_values.sql"))
    con.execute(
        f"DROP TABLE IF EXISTS {target}; ALTER TABLE ip_normalize_output RENAME TO {target}; "
        "DROP TABLE IF EXISTS ip_typed; DROP TABLE IF EXISTS ip_phone_fixes; "
        "DROP TABLE IF EXISTS ip_phone_pending"
    )
