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

from identity_pipeline.warehouse import run_script

PHONE_UNPARSEABLE: Final = "phone_unparseable"
PHONE_INVALID: Final = "phone_invalid"
PHONE_TOO_SHORT: Final = "phone_too_short_for_uid2"
PHONE_COUNTRY_UNKNOWN: Final = "phone_country_unknown"


@cache
def _supported_regions() -> frozenset[str]:
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    run_script(con, "identity_pipeline.normalize", "create_normalize_macros.sql")


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


def _compute_phone_fixes(con: duckdb.DuckDBPyConnection) -> bool:
    """Fill temp table ip_phone_fixes for each distinct non-E.164 (value, region) of ip_norm_input.

    Returns False, without touching Python or pyarrow, when there is nothing to fix (email-only
    input, or phones already in E.164).
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ip_phone_pending AS
        SELECT DISTINCT value, region FROM ip_norm_input
        WHERE dii_type = 'phone' AND value IS NOT NULL AND NOT ip_is_e164_ascii(value)
        """
    )
    (count,) = con.execute("SELECT count(*) FROM ip_phone_pending").fetchall()[0]
    if count == 0:
        return False
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
    return True


def normalize_view(con: duckdb.DuckDBPyConnection, source: str, default_region: str) -> str:
    """Define temp view `ip_norm_output`: every row of `source`, in order, normalized and hashed.

    `source` (a table or view) must have columns `value`, `dii_type` ('email' | 'phone' | NULL
    to infer: values with an '@' are emails) and `region` (NULL: use default_region). The view
    has all columns of `source` (dii_type and region filled in) plus normalized, uid2_hash,
    id5_hash and error (NULL when valid). `source` is our own table name, never user input.

    Values that need `phonenumbers` are fixed first, once per distinct (value, region), and
    written into a copy of the input with UPDATE, so the view never joins and a plain scan of it
    keeps the input order. Email-only input is never copied: the view reads `source` directly.
    Returns the view's name.
    """
    install_macros(con)
    con.execute("SET VARIABLE ip_default_region = ?", [default_region])
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW ip_norm_input AS
        SELECT * REPLACE (
            coalesce(dii_type, CASE WHEN contains(value, '@') THEN 'email' ELSE 'phone' END)
                AS dii_type,
            coalesce(ip_country_code(region), ip_country_code(getvariable('ip_default_region')))
                AS region
        )
        FROM {source}
        """
    )
    if _compute_phone_fixes(con):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE ip_norm_fixed AS
            SELECT *, CAST(NULL AS VARCHAR) AS ip_fix_normalized,
                   CAST(NULL AS VARCHAR) AS ip_fix_error
            FROM ip_norm_input;
            UPDATE ip_norm_fixed SET ip_fix_normalized = f.normalized, ip_fix_error = f.error
            FROM ip_phone_fixes AS f
            WHERE ip_norm_fixed.dii_type = 'phone' AND ip_norm_fixed.value = f.value
              AND ip_norm_fixed.region = f.region;
            CREATE OR REPLACE TEMP VIEW ip_norm_typed AS SELECT * FROM ip_norm_fixed;
            """
        )
    else:
        con.execute(
            """
            CREATE OR REPLACE TEMP VIEW ip_norm_typed AS
            SELECT *, CAST(NULL AS VARCHAR) AS ip_fix_normalized,
                   CAST(NULL AS VARCHAR) AS ip_fix_error
            FROM ip_norm_input;
            """
        )
    run_script(con, "identity_pipeline.normalize", "create_normalized_view.sql")
    return "ip_norm_output"


def drop_normalize_view(con: duckdb.DuckDBPyConnection) -> None:
    """Drop ip_norm_output and the scratch objects behind it."""
    con.execute(
        "DROP VIEW IF EXISTS ip_norm_output; DROP VIEW IF EXISTS ip_norm_typed; "
        "DROP TABLE IF EXISTS ip_norm_fixed; DROP VIEW IF EXISTS ip_norm_input; "
        "DROP TABLE IF EXISTS ip_phone_fixes; DROP TABLE IF EXISTS ip_phone_pending"
    )


def normalize_table(
    con: duckdb.DuckDBPyConnection, source: str, target: str, default_region: str
) -> None:
    """Create temp table `target` = every row of `source` plus normalized, hashes and error.

    Same columns and rules as `normalize_view`; row count and all other columns are preserved.
    """
    view = normalize_view(con, source, default_region)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM {view}")
    drop_normalize_view(con)
