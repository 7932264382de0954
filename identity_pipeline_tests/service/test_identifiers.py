"""The service types identifiers exactly as the identity graph does: same trim, same hashes,
same id_key, same blocked values (its Python patterns agree with DuckDB's RE2)."""

from __future__ import annotations

import duckdb
import pytest

from identity_pipeline.identity_graph.rules import StitchingRules
from identity_pipeline.service.identifiers import (
    SQL_SPACES,
    BlockedValues,
    event_identifiers,
    id_key,
    python_pattern,
)

VALUES = [
    "null",
    "NULL",
    "Null",
    "none",
    "nil",
    "undefined",
    "NaN",
    "unknown",
    "anonymous",
    "Anonymous",
    "n/a",
    "N/A",
    "na",
    "test",
    "TEST",
    "-1",
    "0",
    "000",
    "0-0",
    "",
    "1",
    "abc",
    "nullable",
    "testing",
    "anonymousX",
    "test@test.com",
    "bob@example.com",
    "bob@example.org",
    "x@mailinator.com",
    "bob@examples.com",
    "ann@corp.io",
    "10000000",
    "0000000",
    "1234567890",
    "11234567890",
    "5555555555",
    "15555555555",
    "447911123456",
    "NULL ",
    "ünknown",
    "ÑULL",
    "nuLL",
    "ｎｕｌｌ",
    "١٢٣",
]


def test_python_blocked_patterns_agree_with_duckdb() -> None:
    blocked = BlockedValues()
    from identity_pipeline.service.identifiers import Identifier

    for id_type in ("anonymous_id", "email", "phone", "gclid", "fbclid", "customer_id"):
        identifiers = [Identifier(id_type, v, v, id_key(id_type, v)) for v in VALUES]
        python = blocked.blocked_keys(identifiers)
        duck = blocked.duckdb_blocked(identifiers)
        assert [i.id_key in python for i in identifiers] == duck, id_type
    assert any(duck)


@pytest.mark.parametrize(
    ("pattern", "python"),
    [
        (r"^(?i)(null)$", True),
        (r"^\d+$", True),
        (r"(?i)\d", False),
        (r"\pL", False),
        (r"[[:alpha:]]", False),
        (r"a(?i)b", False),
    ],
)
def test_patterns_python_cannot_mean_the_same_go_to_duckdb(pattern: str, python: bool) -> None:
    assert (python_pattern(pattern) is not None) is python
    rules = StitchingRules(blocked_patterns=(("anonymous_id", pattern),))
    from identity_pipeline.service.identifiers import Identifier

    blocked = BlockedValues(rules)
    values = ["NULL", "null", "7", "٣", "é", "ab", "aB", "Ab"]
    identifiers = [Identifier("anonymous_id", v, v, id_key("anonymous_id", v)) for v in values]
    found = blocked.blocked_keys(identifiers)
    assert [i.id_key in found for i in identifiers] == blocked.duckdb_blocked(identifiers)


def test_trim_hashes_and_keys_match_duckdb() -> None:
    con = duckdb.connect()
    raw = "\u00a0 dev-1\t\u3000 "
    (trimmed, key) = con.execute(
        "SELECT trim($v), CAST(md5_number_lower('anonymous_id:' || trim($v)) >> 1 AS BIGINT)",
        {"v": raw},
    ).fetchall()[0]
    (identifier,) = event_identifiers({"anonymous_id": raw}, "US")
    assert (identifier.id_value, identifier.id_key) == (trimmed, key)
    assert "\t" not in SQL_SPACES and "\u00a0" in SQL_SPACES
    email, phone = event_identifiers(
        {"email": "TEst.TEST@Test.com ", "phone": "(415) 555-0123"}, "US"
    )
    assert email.id_value == "dvECjPKZHya0/SIhSGwP0m8SgTv1vzLxPULUOsm880M="  # PROTOCOLS.md §4
    assert phone.plain == "14155550123" and "plain" not in repr(phone)
    assert [i.id_type for i in event_identifiers({"gclid": "g", "gaclid": "g"}, "US")] == ["gclid"]
