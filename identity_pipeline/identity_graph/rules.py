"""Stitching rules: identifier types, blocked values and per-type link limits.

An identifier links the identifiers it shares an event with. One that matches a blocked
pattern, or links more than `max_links[type]` distinct identifiers of some type, is a hub: it
links nothing, and `identity_hubs` says why. Patterns are RE2 regular expressions matched
against the identifier as the graph sees it before hashing (trimmed; emails normalized as
UID2 does; phones in E.164 without the '+'), so `TEST@test.com ` is blocked like
`test@test.com`. Defaults follow Segment Unify's blocked values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

ID_TYPES: Final = ("customer_id", "email", "phone", "anonymous_id", "gclid", "fbclid")
"""Every identifier type, in anchor priority order: on equal first-seen times, the earlier
type anchors the person (durable identifiers before device and click IDs)."""

ANY_TYPE: Final = "*"

DEFAULT_BLOCKED_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (ANY_TYPE, r"^[0-]*$"),
    (ANY_TYPE, r"^-1$"),
    (ANY_TYPE, r"^(?i)(null|none|nil|undefined|nan|unknown|anonymous|n/?a|test)$"),
    ("email", r"^test\x40test\.com$"),
    ("email", r"^[^\x40]*\x40(example\.(com|org|net)|test\.com|mailinator\.com)$"),
    ("phone", r"^[0-9]?0{6,}$"),
    ("phone", r"^1?(1234567890|5555555555)$"),
)
"""(identifier type or '*', pattern). '@' is written `\x40`: a hub's row in identity_hubs
names the pattern it matched, and no table but raw_* may hold text that looks like an email
address (the contacts check no_raw_dii_in_derived_tables would fail on a literal one)."""

DEFAULT_MAX_LINKS: Final[Mapping[str, int]] = {
    "customer_id": 3,
    "email": 5,
    "phone": 5,
    "anonymous_id": 50,
    "gclid": 200,
    "fbclid": 200,
}
"""An identifier linking more distinct identifiers of a type than this is a hub. A shared
device rarely sees more than a handful of emails, while one email is used on many devices and
clicks many ads."""


@dataclass(frozen=True)
class StitchingRules:
    blocked_patterns: tuple[tuple[str, str], ...] = DEFAULT_BLOCKED_PATTERNS
    max_links: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_LINKS))

    def __post_init__(self) -> None:
        for id_type, pattern in self.blocked_patterns:
            if id_type != ANY_TYPE and id_type not in ID_TYPES:
                raise ValueError(f"blocked pattern {pattern!r}: unknown type {id_type!r}")
        for id_type, limit in self.max_links.items():
            if id_type not in ID_TYPES:
                raise ValueError(f"max_links: unknown identifier type {id_type!r}")
            if limit < 1:
                raise ValueError(f"max_links[{id_type!r}] must be at least 1, not {limit}")

    def limit_rows(self) -> list[tuple[str, int]]:
        return [(t, int(self.max_links.get(t, 1_000_000_000))) for t in ID_TYPES]
