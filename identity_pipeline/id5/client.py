"""The ID5 Partner Signals client resource (seed 004): hashed emails in, ID5 IDs out.

ID5 publishes no Python client for this endpoint, so this is a small one on the mapping client
base (`mapping.http`: pooled session, timeouts, retries): 429, 5xx, dropped connections and
timeouts are retried with full-jitter backoff inside a time budget; bad credentials and refused
requests fail at once.

The API takes its token in the URL query string. URLs are therefore never logged nor put in an
error: messages are built from status codes, ID5's error codes and exception class names only,
and urllib3's debug line, which prints the request URL, gets the token redacted
(REDACTED_QUERY_PARAMS).
"""

import json
import os
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import Field

from identity_pipeline.mapping.http import MappingHTTPClient
from identity_pipeline.mapping.retry import CallStats, FatalAPIError, RetryableAPIError, RetryHook
from identity_pipeline.settings import env_fallback_field

MAX_BATCH = 1_000
"""Users per request the API accepts."""

DEFAULT_REFRESH_DAYS = 7

ENV_BASE_URL = "ID5_BASE_URL"
ENV_PARTNER_ID = "ID5_PARTNER_ID"
ENV_TOKEN = "ID5_TOKEN"  # noqa: S105 - the variable name, not a secret
ENV_REFRESH_DAYS = "ID5_REFRESH_DAYS"

Json = dict[str, Any]

_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")

ANSWER_SCHEMA = pa.schema(
    [
        ("dii_id", pa.int64()),  # from the partner_user_id echo
        ("uid", pa.string()),  # the ID5 ID; NULL when the user was rejected
        ("country_alpha2", pa.string()),  # ID5's answer: what we sent, its own, or 'AA'
        ("error_code", pa.string()),  # per-user error, e.g. sha256_length_invalid
    ]
)


class ID5Client(MappingHTTPClient):
    """Sends hex SHA-256 emails (never raw values) to ID5 Partner Signals in batches ≤1,000.

    Credentials come from the environment (`EnvVar` in definitions.py); nothing here logs them.
    """

    SERVICE: ClassVar[str] = "ID5"
    MAX_BATCH: ClassVar[int] = MAX_BATCH
    ENV_BASE_URL: ClassVar[str] = ENV_BASE_URL
    REDACTED_QUERY_PARAMS: ClassVar[tuple[str, ...]] = ("token",)

    base_url: str = Field(description=f"API root (${ENV_BASE_URL}), e.g. https://api.id5-sync.com")
    partner_id: int = Field(description=f"ID5 partner number (${ENV_PARTNER_ID}).")
    token: str = Field(description=f"API token (${ENV_TOKEN}); sent as a URL query parameter.")
    refresh_days: int | None = env_fallback_field(
        "Re-map an ID5 ID this many days after we got it", ENV_REFRESH_DAYS, DEFAULT_REFRESH_DAYS
    )
    batch_size: int = Field(default=MAX_BATCH, description=f"Users per request, ≤{MAX_BATCH}.")

    # -- settings -----------------------------------------------------------------------------

    @property
    def refresh_interval_days(self) -> int:
        raw = self.refresh_days or os.environ.get(ENV_REFRESH_DAYS) or DEFAULT_REFRESH_DAYS
        try:
            days = int(raw)
        except ValueError:
            raise ValueError(f"${ENV_REFRESH_DAYS} must be a whole number, got {raw!r}") from None
        if days < 1:
            raise ValueError(f"${ENV_REFRESH_DAYS} must be at least 1, got {days}")
        return days

    # -- transport ----------------------------------------------------------------------------

    def _post(self, body: bytes, sent: int, stats: CallStats | None = None) -> list[Json]:
        """One request; returns the answer's users array or raises a typed error."""
        url = self._url(f"/partners/v1/{self.partner_id}/signals")
        response, content = self._timed_post(
            url,
            stats,
            params={"token": self.token},
            data=body,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
        status = response.status_code
        try:
            document = json.loads(content)
        except ValueError:
            if status == 200:
                raise RetryableAPIError("unreadable response") from None
            document = None
        code = _error_code(document)
        if status == 200 or (status == 400 and code == "user_objects_invalid"):
            users = document.get("users") if isinstance(document, dict) else None
            if isinstance(users, list) and len(users) == sent:
                # 400 user_objects_invalid with a users array: every user was rejected, and
                # the array says why, per user. Stored like any other answer.
                return users
            if status == 200:
                raise FatalAPIError(
                    f"ID5 answered {len(users) if isinstance(users, list) else 'no'} users "
                    f"for {sent} sent"
                )
        raise FatalAPIError(_refusal(status, code))

    # -- API ----------------------------------------------------------------------------------

    def signals(
        self,
        users: Sequence[Json],
        *,
        stats: CallStats,
        what: str = "ID5 signals",
        on_retry: RetryHook | None = None,
    ) -> list[Json]:
        """Post one users array (seed 004 request user objects); ID5's answer users array."""
        if not 1 <= len(users) <= MAX_BATCH:
            raise ValueError(f"{len(users)} users; a request carries 1 to {MAX_BATCH}")
        body = json.dumps({"users": list(users)}, separators=(",", ":")).encode()
        return self._with_retries(
            lambda: self._post(body, len(users), stats), stats, what, on_retry
        )

    def map_emails(
        self,
        dii_ids: Sequence[int],
        email_hashes: Sequence[str],
        known_uids: Sequence[str | None],
        countries: Sequence[str | None],
        *,
        stats: CallStats,
        what: str = "ID5 signals",
        on_retry: RetryHook | None = None,
    ) -> pa.Table:
        """Map one batch; one answer row per input, in input order (see ANSWER_SCHEMA)."""
        users = build_users(dii_ids, email_hashes, known_uids, countries)
        answers = self.signals(users, stats=stats, what=what, on_retry=on_retry)
        return answer_table(dii_ids, email_hashes, answers, what)

    def map_batch(
        self, rows: pa.Table, stats: CallStats, what: str, on_retry: RetryHook
    ) -> pa.Table:
        """A batch of due rows (dii_id, id5_hash, known_uid, country_alpha2) as one users
        array; one answer row per row, in order."""
        columns = rows.to_pydict()
        return self.map_emails(
            columns["dii_id"],
            columns["id5_hash"],
            columns["known_uid"],
            columns["country_alpha2"],
            stats=stats,
            what=what,
            on_retry=on_retry,
        )


def build_users(
    dii_ids: Sequence[int],
    email_hashes: Sequence[str],
    known_uids: Sequence[str | None],
    countries: Sequence[str | None],
) -> list[Json]:
    """Seed 004 request user objects; partner_user_id (our dii_id) comes back with the answer."""
    users: list[Json] = []
    for dii_id, email, known, country in zip(
        dii_ids, email_hashes, known_uids, countries, strict=True
    ):
        user: Json = {"email_sha256": email, "partner_user_id": str(dii_id)}
        if known:
            user["known_uids"] = [{"uid": known}]
        if country:
            user["country_alpha2"] = country
        users.append(user)
    return users


def answer_table(
    dii_ids: Sequence[int], email_hashes: Sequence[str], answers: list[Json], what: str
) -> pa.Table:
    """Line answers up with what we sent: by the partner_user_id echo, else by position.

    Seed 004 does not promise answers in request order, but echoes partner_user_id; if a
    service left the echo out, the answers must at least be in order with matching hashes.
    """
    count = len(dii_ids)
    slots: list[Json | None] = [None] * count
    if answers and all(isinstance(a, dict) and "partner_user_id" in a for a in answers):
        position = {str(dii_id): i for i, dii_id in enumerate(dii_ids)}
        for answer in answers:
            index = position.get(str(answer["partner_user_id"]))
            if index is None or slots[index] is not None:
                raise FatalAPIError(f"{what}: ID5 echoed a partner_user_id we did not send once")
            slots[index] = answer
    elif len(answers) == count and all(
        isinstance(a, dict) and a.get("email_sha256") == email
        for a, email in zip(answers, email_hashes, strict=True)
    ):
        slots[:] = answers
    matched = [slot for slot in slots if slot is not None]
    if len(matched) != count:
        raise FatalAPIError(f"{what}: ID5's answer does not match the {count} users sent")
    uids: list[str | None] = []
    countries: list[str | None] = []
    errors: list[str | None] = []
    for answer in matched:
        uid = answer.get("uid")
        error = _error_code(answer) if uid is None else None
        uids.append(uid if isinstance(uid, str) and uid else None)
        country = answer.get("country_alpha2")
        countries.append(country if isinstance(country, str) else None)
        errors.append(None if uids[-1] else (error or "no_uid"))
    return pa.table(
        {
            "dii_id": pa.array(dii_ids, pa.int64()),
            "uid": pa.array(uids, pa.string()),
            "country_alpha2": pa.array(countries, pa.string()),
            "error_code": pa.array(errors, pa.string()),
        },
        schema=ANSWER_SCHEMA,
    )


def _error_code(document: object) -> str | None:
    """ID5's machine-readable error code, if it is one (never free text, which may echo input)."""
    if not isinstance(document, dict):
        return None
    error = document.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def _refusal(status: int, code: str | None) -> str:
    """What a refused request means and what to check; never the token or the URL."""
    said = f"HTTP {status} {code or 'no error code'}"
    if status == 401 or code == "api_token_invalid":
        return f"ID5 refused the request ({said}): no valid token; check ${ENV_TOKEN}"
    if status == 403 or code == "api_token_not_authorized":
        return (
            f"ID5 refused the token ({said}): check that ${ENV_TOKEN} is the token ID5 issued "
            f"for partner ${ENV_PARTNER_ID}"
        )
    if code == "partner_id_invalid":
        return f"ID5 does not know the partner number ({said}): check ${ENV_PARTNER_ID}"
    return f"ID5 rejected the request ({said})"
