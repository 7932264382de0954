"""The hashed deny-list of forgotten people (`forgotten_identifiers`): how its hashes are made.

Emails and phones are listed by their UID2 hash (base64 SHA-256 of the normalized value, the
`dii` code path: normalize.values.normalize_table), as identity_events holds them. Anonymous
IDs and click IDs have no normalization: they are listed by the same base64 SHA-256 of the value
trimmed of spaces (DuckDB's `trim`), as identity_events holds them. `identifier_hash` is that
hash in Python; `IDENTIFIER_HASH_SQL` is the same hash in DuckDB SQL.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

FORGETTABLE_TYPES: Final = ("email", "phone", "anonymous_id", "fbclid", "gclid")
"""`forgotten_identifiers.id_type` values the events ingest honours."""
PLAIN_ID_TYPES: Final = ("anonymous_id", "fbclid", "gclid")
"""Identifier types hashed by `identifier_hash` (email and phone use the UID2 hash instead)."""

IDENTIFIER_HASH_SQL: Final = "to_base64(unhex(sha256(trim({value}))))"
"""DuckDB expression equal to `identifier_hash`; format with value=<a SQL expression>."""


def trimmed(value: str) -> str:
    """The value as identity_events stores an anonymous_id or click ID: spaces trimmed."""
    return value.strip(" ")


def identifier_hash(value: str) -> str:
    """base64(SHA-256(UTF-8 of the value trimmed of spaces)): how `forgotten_identifiers`
    lists an anonymous_id, fbclid or gclid. ValueError for a value that is blank once trimmed."""
    plain = trimmed(value)
    if not plain:
        raise ValueError("a blank identifier cannot be hashed")
    return base64.b64encode(hashlib.sha256(plain.encode("utf-8")).digest()).decode("ascii")
