"""A request's typed identifiers, by the identity graph's rules, one event at a time.

The graph (identity_pipeline.identity_graph) types identifiers in SQL over many events; the
service needs the same answer for one event in microseconds. So this module calls the same
pieces the graph does, never its own copies:
- emails: `uid2_client.input_util.normalize_email_string` and its base64 SHA-256, the SDK the
  contacts normalizer is kept bit-exact with (PROTOCOLS.md §4);
- phones: `normalize.values.normalize_phone` (SDK-accepted E.164 as is, else phonenumbers
  with the default region), hashed the same way;
- anonymous and click IDs trimmed, `gaclid` read as `gclid` (select_event_identifiers.sql);
- `id_key`: the graph's `md5_number_lower(type || ':' || value) >> 1`;
- trimming: DuckDB's `trim`, which strips Unicode space separators (category Zs) only;
- blocked values: the stitching rules' patterns. A request cannot wait for a DuckDB query
  (about 4 ms a batch under load), so each pattern is compiled with Python's `re` when it
  means the same there (RE2's mid-pattern `(?i)` becomes a scoped `(?i:...)`; values with a
  newline, where `$` differs, go to DuckDB); a type with a pattern `re` cannot take is matched
  by DuckDB's RE2 `regexp_matches` over the graph's own alternation (`type_patterns`), as
  the graph does. Tests keep both equal to DuckDB on the QA values and more.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import duckdb
from uid2_client.input_util import get_base64_encoded_hash, normalize_email_string

from identity_pipeline.identity_graph.identifiers import type_patterns
from identity_pipeline.identity_graph.rules import ANY_TYPE, ID_TYPES, StitchingRules
from identity_pipeline.normalize.values import normalize_phone

TYPE_RANK = {id_type: rank for rank, id_type in enumerate(ID_TYPES)}

SQL_SPACES = "".join(
    c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(c) == "Zs"
)
"""What DuckDB's trim() strips: Unicode space separators, not tabs or newlines."""


@dataclass(frozen=True, slots=True)
class Identifier:
    id_type: str
    id_value: str  # as the graph stores it: hashes for email/phone
    plain: str = field(repr=False)  # what blocked patterns see; never logged or stored
    id_key: int = 0

    @property
    def rank(self) -> int:
        return TYPE_RANK[self.id_type]


def id_key(id_type: str, id_value: str) -> int:
    """The graph's id_key: DuckDB md5_number_lower (low 8 bytes, little-endian) >> 1."""
    digest = hashlib.md5(f"{id_type}:{id_value}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "little") >> 1


def _make(id_type: str, id_value: str, plain: str) -> Identifier:
    return Identifier(id_type, id_value, plain, id_key(id_type, id_value))


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip(SQL_SPACES)
    return value or None


def email_identifier(raw: str) -> Identifier | None:
    normalized = normalize_email_string(raw)
    if normalized is None:
        return None
    return _make("email", get_base64_encoded_hash(normalized), normalized)


def phone_identifier(raw: str, default_region: str) -> Identifier | None:
    e164, _error = normalize_phone(raw, default_region)
    if e164 is None:
        return None
    return _make("phone", get_base64_encoded_hash(e164), e164.lstrip("+"))


def event_identifiers(body: dict[str, Any], default_region: str) -> list[Identifier]:
    """Every identifier of a request body, as the graph would type it (invalid emails and
    phones are not identifiers). Blocked values are still in; see BlockedValues."""
    found: list[Identifier] = []
    anonymous = _text(body, "anonymous_id")
    if anonymous:
        found.append(_make("anonymous_id", anonymous, anonymous))
    fbclid = _text(body, "fbclid")
    if fbclid:
        found.append(_make("fbclid", fbclid, fbclid))
    gclid = _text(body, "gclid")
    if gclid:
        found.append(_make("gclid", gclid, gclid))
    gaclid = _text(body, "gaclid")
    if gaclid and gaclid != gclid:
        found.append(_make("gclid", gaclid, gaclid))
    email = body.get("email")
    if isinstance(email, str) and email.strip():
        identifier = email_identifier(email)
        if identifier:
            found.append(identifier)
    phone = body.get("phone")
    if isinstance(phone, str) and phone.strip():
        identifier = phone_identifier(phone, default_region)
        if identifier:
            found.append(identifier)
    return found


def python_pattern(pattern: str) -> re.Pattern[str] | None:
    """`pattern` (RE2) as a Python regular expression with the same meaning, or None."""
    leading = re.match(r"^(\^?)\(\?([imsU]+)\)(.*)$", pattern, re.DOTALL)
    if leading and "U" not in leading.group(2):
        pattern = f"{leading.group(1)}(?{leading.group(2)}:{leading.group(3)})"
    if re.search(r"\(\?[a-zA-Z]*[-)]|\\[pPCzQE]|\[\[:", pattern):
        return None  # other inline flags, RE2-only escapes or POSIX classes: leave to RE2
    flags = 0
    if re.search(r"\\[dDwWsSbB]", pattern):
        if "(?i" in pattern:
            return None  # RE2 folds case by Unicode but classes by ASCII: no Python twin
        flags = re.ASCII  # RE2's \d, \w, \s, \b are ASCII
    try:
        return re.compile(pattern, flags)
    except re.error:
        return None


class BlockedValues:
    """Which identifiers match a blocked pattern of the stitching rules: in Python where the
    pattern means the same there, else one DuckDB query per batch of unseen identifiers;
    answers cached by id_key. Not thread-safe: one owner."""

    def __init__(self, rules: StitchingRules | None = None, cache_size: int = 1_000_000) -> None:
        rules = rules or StitchingRules()
        self._python: dict[str, list[re.Pattern[str]]] = {}
        for id_type in ID_TYPES:
            compiled = [
                python_pattern(p) for t, p in rules.blocked_patterns if t in (ANY_TYPE, id_type)
            ]
            if all(c is not None for c in compiled):
                self._python[id_type] = [c for c in compiled if c is not None]
        self._con = duckdb.connect()
        self._params = type_patterns(rules)
        self._cache: dict[int, bool] = {}
        self._cache_size = cache_size
        cases = " ".join(
            f"WHEN '{id_type}' THEN regexp_matches(plain, $re_{id_type})" for id_type in ID_TYPES
        )
        self._query = (
            f"SELECT coalesce(CASE id_type {cases} END, false) "
            "FROM (SELECT unnest($types) AS id_type, unnest($plains) AS plain)"
        )

    def blocked_keys(self, identifiers: list[Identifier]) -> set[int]:
        unseen: dict[int, Identifier] = {}
        for i in identifiers:
            if i.id_key in self._cache:
                continue
            patterns = self._python.get(i.id_type)
            if patterns is not None and "\n" not in i.plain:
                self._cache[i.id_key] = any(p.search(i.plain) for p in patterns)
            else:
                unseen[i.id_key] = i
        if len(self._cache) > self._cache_size:
            self._cache.clear()
        if unseen:
            todo = list(unseen.values())
            rows = self._con.execute(
                self._query,
                {
                    **self._params,
                    "types": [i.id_type for i in todo],
                    "plains": [i.plain for i in todo],
                },
            ).fetchall()
            if len(self._cache) + len(todo) > self._cache_size:
                self._cache.clear()
            for identifier, (blocked,) in zip(todo, rows, strict=True):
                self._cache[identifier.id_key] = bool(blocked)
        return {i.id_key for i in identifiers if self._cache.get(i.id_key, False)}

    def duckdb_blocked(self, identifiers: list[Identifier]) -> list[bool]:
        """DuckDB's (the graph's) answer, uncached: for tests keeping both paths equal."""
        rows = self._con.execute(
            self._query,
            {
                **self._params,
                "types": [i.id_type for i in identifiers],
                "plains": [i.plain for i in identifiers],
            },
        ).fetchall()
        return [bool(r[0]) for r in rows]

    def close(self) -> None:
        self._con.close()
