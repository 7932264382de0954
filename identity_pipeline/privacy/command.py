"""`identity-pipeline forget`: one request, naming one person by any of their identifiers.

Works without Dagster (no daemon, no UI): values are normalized and hashed in a private
in-memory DuckDB first, then the warehouse is opened (waiting while another process holds it)
for one transaction only and closed at once. Prints counts and the request ID, never a value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from identity_pipeline import settings

if TYPE_CHECKING:
    from identity_pipeline.privacy.forget import ForgetOutcome, RequestedIdentifier

REASONS = {
    "email_invalid": "not a valid email address",
    "phone_invalid": "not a valid phone number",
    "phone_unparseable": "not a phone number",
    "phone_too_short_for_uid2": "too short for UID2",
    "phone_country_unknown": "no country for this national number",
    "value_missing": "empty",
    "blocked_value": "a placeholder the stitching rules block (it names nobody)",
}
"""Reason codes of unusable values (normalize's and requests.py's), in words."""

_OPTIONS = (("email", "--email"), ("phone", "--phone"), ("anonymous_id", "--anonymous-id"))


def add_arguments(parser: argparse.ArgumentParser, region_type: object) -> None:
    """The `forget` command's options (cli.py builds the parser)."""
    for dest, option in _OPTIONS:
        parser.add_argument(
            option,
            dest=dest,
            action="append",
            metavar="VALUE",
            help=f"the person's {dest.replace('_', ' ')}; repeat for several (default: none; "
            "give at least one of --email, --phone, --anonymous-id)",
        )
    parser.add_argument(
        "--default-region",
        type=region_type,  # type: ignore[arg-type]
        metavar="CC",
        help="ISO 3166 alpha-2 region for national phone numbers (default: "
        f"${settings.ENV_DEFAULT_REGION}, else {settings.DEFAULT_REGION})",
    )
    parser.add_argument(
        "--database",
        help=f"DuckDB file (default: ${settings.ENV_DB}, else {settings.DEFAULT_DB})",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait while a run holds the warehouse",
    )


def run(args: argparse.Namespace) -> int:
    from identity_pipeline.privacy.forget import RequestedIdentifier
    from identity_pipeline.privacy.requests import normalize_requests

    values = [
        (1, dest, ordinal, value)
        for dest, _ in _OPTIONS
        for ordinal, value in enumerate(getattr(args, dest) or [], start=1)
    ]
    if not values:
        print("error: give at least one of --email, --phone, --anonymous-id", file=sys.stderr)
        return 2
    try:
        region = settings.default_region(args.default_region)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    staged = normalize_requests(values, region)
    options = dict(_OPTIONS)
    problems = []
    for value in staged:
        if value.error:
            problems.append(
                f"{options[value.field]} #{value.ordinal}: "
                f"{REASONS.get(value.error, value.error)} ({value.error})"
            )
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("error: nothing was forgotten", file=sys.stderr)
        return 2
    path = Path(settings.database_path(args.database))
    if not path.is_file():
        print(
            f"error: no warehouse file at {path} (set ${settings.ENV_DB} or --database); "
            "nothing was forgotten",
            file=sys.stderr,
        )
        return 2
    requested = [RequestedIdentifier(1, v.id_type, v.id_value) for v in staged if v.id_value]
    return _forget(requested, path, region, args)


def _forget(
    requested: list[RequestedIdentifier], path: Path, region: str, args: argparse.Namespace
) -> int:
    from identity_pipeline.privacy.forget import RequestSource, forget
    from identity_pipeline.warehouse import (
        WarehouseLockedError,
        connect,
        naive_utc,
        transaction,
    )

    try:
        with connect(path, lock_timeout_seconds=args.lock_timeout) as con, transaction(con):
            (outcome,) = forget(
                con,
                requested,
                {1: RequestSource("cli")},
                now=naive_utc(settings.now()),
                default_region=region,
            )
    except WarehouseLockedError as error:
        print(f"error: {error}; nothing was forgotten", file=sys.stderr)
        return 1
    print(describe(outcome))
    return 0


def describe(outcome: ForgetOutcome) -> str:
    """Counts only: what a request found, deleted and deny-listed."""
    width = max(len(t) for t in outcome.rows_deleted)
    lines = [
        f"forget request {outcome.request_id} ({', '.join(outcome.id_types)})",
        f"  persons found: {outcome.persons_found}",
        f"  identifiers added to the deny-list: {outcome.identifiers_forgotten}",
        f"  rows deleted: {sum(outcome.rows_deleted.values())}",
    ]
    lines += [f"    {t:<{width}}  {n}" for t, n in sorted(outcome.rows_deleted.items())]
    kept = outcome.crm_rows_kept
    if any(kept.values()):
        lines.append(
            f"  CRM rows kept (dii {kept['dii']}, customer_dii {kept['customer_dii']}): the "
            "person is still in the contact files; remove them at the source, or suppress them "
            'through landing optouts/ (README "Forgetting a person")'
        )
    return "\n".join(lines)
