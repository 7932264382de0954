"""The UID2 Identity Map client resource, on top of the official `uid2-client` SDK.

The SDK encrypts the envelope, decrypts and nonce-checks the answer, and builds v2 requests
(`IdentityMapInput`); tests run its unmodified `IdentityMapV3Client` against our sandbox to pin
the v3 document we send. Two parts are ours. The transport: the SDK's urllib
call has no timeout, opens a new connection per request and does not retry, so a long mapping
run would hang on the first stalled socket; we post the SDK's envelope through the mapping
client base (`mapping.http`: pooled session, timeouts, retries inside a time budget). And the
answer: the SDK's response classes build a dict and a datetime per identity (~30 ms per 5,000),
so we hand the decrypted arrays to Arrow/DuckDB by position instead, which the v3 contract
guarantees (each answer array has the input array's length and order).
"""

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
import requests
from pydantic import Field
from uid2_client import IdentityMapInput
from uid2_client.identity_buckets_response import IdentityBucketsResponse
from uid2_client.request_response_util import auth_headers, create_envelope, parse_response
from uid2_client.uid2_response import Uid2Response

from identity_pipeline.mapping.http import MappingHTTPClient
from identity_pipeline.mapping.retry import CallStats, FatalAPIError, RetryableAPIError, RetryHook
from identity_pipeline.settings import env_fallback_field

MAX_BATCH = 5_000
"""Operator limit on identifiers per request."""

MAX_PARALLEL = 20
"""Upper bound the UID2 guidance allows for v3; v2 should stay sequential."""

ENV_BASE_URL = "UID2_BASE_URL"
ENV_API_KEY = "UID2_API_KEY"
ENV_SECRET_KEY = "UID2_SECRET_KEY"  # noqa: S105 - the variable name, not a secret
ENV_API_VERSION = "UID2_API_VERSION"
ENV_MAX_PARALLEL = "UID2_MAX_PARALLEL_REQUESTS"

DiiType = Literal["email", "phone"]


class UID2Client(MappingHTTPClient):
    """Maps DII hashes (never raw values) to raw UID2s through an operator.

    Secrets come from the environment (`EnvVar` in definitions.py); nothing here logs them.
    """

    SERVICE: ClassVar[str] = "UID2"
    MAX_BATCH: ClassVar[int] = MAX_BATCH
    ENV_BASE_URL: ClassVar[str] = ENV_BASE_URL

    base_url: str = Field(description=f"Operator URL (${ENV_BASE_URL}), no trailing path.")
    api_key: str = Field(description=f"Bearer API key (${ENV_API_KEY}).")
    secret_key: str = Field(description=f"Base64 client secret (${ENV_SECRET_KEY}).")
    api_version: str | None = env_fallback_field("'v3' or 'v2'", ENV_API_VERSION, "v3")
    max_parallel_requests: int | None = env_fallback_field(
        f"Requests in flight at once, 1-{MAX_PARALLEL}",
        ENV_MAX_PARALLEL,
        "1 (sequential, as the v2 guidance requires)",
    )
    batch_size: int = Field(
        default=MAX_BATCH, description=f"Identifiers per request, ≤{MAX_BATCH}."
    )

    # -- settings -----------------------------------------------------------------------------

    @property
    def version(self) -> str:
        version = (self.api_version or os.environ.get(ENV_API_VERSION) or "v3").strip().lower()
        if version not in ("v2", "v3"):
            raise ValueError(f"${ENV_API_VERSION} must be 'v3' or 'v2', got {version!r}")
        return version

    @property
    def parallel_requests(self) -> int:
        raw = self.max_parallel_requests or os.environ.get(ENV_MAX_PARALLEL) or 1
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"${ENV_MAX_PARALLEL} must be an integer, got {raw!r}") from None
        if not 1 <= value <= MAX_PARALLEL:
            raise ValueError(
                f"${ENV_MAX_PARALLEL} must be between 1 and {MAX_PARALLEL}, got {value}"
            )
        return value

    def _secret(self) -> bytes:
        try:
            secret = base64.b64decode(self.secret_key, validate=True)
        except ValueError:
            raise FatalAPIError(f"${ENV_SECRET_KEY} is not valid base64") from None
        if len(secret) != 32:
            raise FatalAPIError(f"${ENV_SECRET_KEY} must decode to 32 bytes, got {len(secret)}")
        return secret

    # -- transport ----------------------------------------------------------------------------

    def _post(self, path: str, payload: bytes, stats: CallStats | None = None) -> str:
        """One encrypted request; returns the decrypted JSON text or raises a typed error."""
        secret = self._secret()
        envelope = create_envelope(secret, datetime.now(UTC), payload)
        headers = auth_headers(self.api_key)
        headers["Content-Type"] = "application/octet-stream"
        response, content = self._timed_post(
            self._url(path), stats, data=envelope.binary_envelope, headers=headers
        )
        status = response.status_code
        if status == 401:
            raise FatalAPIError(
                f"UID2 operator refused the credentials (HTTP 401) on {path}: check "
                f"${ENV_API_KEY} and that the key has the MAPPER role"
            )
        if status != 200:
            raise FatalAPIError(
                f"UID2 operator rejected the request (HTTP {status}) on {path}: "
                f"{_operator_message(response)}"
            )
        try:
            # Annotated as str, but the SDK hands back the decrypted bytes.
            answer: str | bytes = parse_response(
                secret, Uid2Response.from_bytes(content), envelope.nonce
            )
            return answer.decode("utf-8") if isinstance(answer, bytes) else answer
        except Exception as error:  # cryptography and the SDK raise several types
            # A cut-off body fails authentication like a wrong secret; retry, then give up.
            raise RetryableAPIError(f"undecryptable response ({type(error).__name__})") from None

    def _call(
        self, path: str, payload: bytes, stats: CallStats, what: str, on_retry: RetryHook | None
    ) -> str:
        return self._with_retries(lambda: self._post(path, payload, stats), stats, what, on_retry)

    # -- API ----------------------------------------------------------------------------------

    def map_v3(
        self,
        email_hashes: list[str],
        phone_hashes: list[str],
        *,
        stats: CallStats,
        what: str = "UID2 v3 map",
        on_retry: RetryHook | None = None,
    ) -> pa.Table:
        """Map base64 hashes in one request; one answer row per input, see ANSWER_SCHEMA."""
        _check_size(len(email_hashes) + len(phone_hashes))
        # The document IdentityMapV3Input.get_identity_map_input_as_json_string() writes, minus
        # its per-identifier dict (8 ms per 5,000 we do not need: answers come back by position).
        request = {"email_hash": email_hashes, "phone_hash": phone_hashes}
        text = self._call(
            "/v3/identity/map",
            json.dumps({k: v for k, v in request.items() if v}).encode(),
            stats,
            what,
            on_retry,
        )
        body = _success_body(text, what)
        parts = []
        for dii_type, hashes, key in (
            ("email", email_hashes, "email_hash"),
            ("phone", phone_hashes, "phone_hash"),
        ):
            answers = body.get(key) or []
            if len(answers) != len(hashes):
                raise FatalAPIError(
                    f"{what}: {len(answers)} {key} answers for {len(hashes)} identifiers"
                )
            if answers:
                parts.append(_answer_table(dii_type, answers))
        return pa.concat_tables(parts) if parts else ANSWER_SCHEMA.empty_table()

    def map_v2(
        self,
        dii_type: DiiType,
        hashes: list[str],
        *,
        stats: CallStats,
        what: str = "UID2 v2 map",
        on_retry: RetryHook | None = None,
    ) -> pa.Table:
        """Legacy v2: one identity type per request; answers carry the salt bucket."""
        _check_size(len(hashes))
        request = (
            IdentityMapInput.from_hashed_emails(hashes)
            if dii_type == "email"
            else IdentityMapInput.from_hashed_phones(hashes)
        )
        text = self._call(
            "/v2/identity/map",
            request.get_identity_map_input_as_json_string().encode(),
            stats,
            what,
            on_retry,
        )
        body = _success_body(text, what)
        position = {hashed: i for i, hashed in enumerate(hashes)}
        answers: list[dict[str, Any]] = [{} for _ in hashes]
        for item in body.get("mapped") or []:
            answers[position[item["identifier"]]] = {
                "u": item.get("advertising_id"),
                "b": item.get("bucket_id"),
            }
        for item in body.get("unmapped") or []:
            answers[position[item["identifier"]]] = {"e": item.get("reason") or "unknown"}
        if any(not answer for answer in answers):
            raise FatalAPIError(f"{what}: the operator's answer left out an identifier")
        return _answer_table(dii_type, answers)

    def map_batch(
        self, rows: pa.Table, stats: CallStats, what: str, on_retry: RetryHook
    ) -> pa.Table:
        """A batch of due rows (uid2_hash, dii_type; emails first) as one v3 request, or (v2)
        one request of the batch's single type; one answer row per row, in order."""
        hashes = rows.column("uid2_hash").to_pylist()
        emails = pc.sum(pc.equal(rows.column("dii_type"), "email")).as_py() or 0
        email_hashes, phone_hashes = hashes[:emails], hashes[emails:]
        if self.version == "v3":
            return self.map_v3(
                email_hashes, phone_hashes, stats=stats, what=what, on_retry=on_retry
            )
        if email_hashes:
            return self.map_v2("email", email_hashes, stats=stats, what=what, on_retry=on_retry)
        return self.map_v2("phone", phone_hashes, stats=stats, what=what, on_retry=on_retry)

    def rotated_buckets(
        self, since: datetime, *, stats: CallStats, on_retry: RetryHook | None = None
    ) -> list[tuple[str, datetime]]:
        """Salt buckets rotated since `since` (v2 refresh), as (bucket_id, last_updated UTC)."""
        since_utc = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        payload = json.dumps({"since_timestamp": since_utc.strftime("%Y-%m-%dT%H:%M:%S")})
        text = self._call(
            "/v2/identity/buckets", payload.encode(), stats, "UID2 bucket check", on_retry
        )
        response = IdentityBucketsResponse(text)
        rotated = []
        for bucket in response.buckets:
            moment = datetime.fromisoformat(str(bucket.get_last_updated()))
            rotated.append(
                (
                    str(bucket.get_bucket_id()),
                    moment if moment.tzinfo else moment.replace(tzinfo=UTC),
                )
            )
        return rotated


ANSWER_SCHEMA = pa.schema(
    [
        ("dii_type", pa.string()),
        ("pos", pa.int64()),  # position within the request's array for this type
        ("u", pa.string()),  # current raw UID2
        ("p", pa.string()),  # previous raw UID2 (v3, within 90 days of a rotation)
        ("r", pa.int64()),  # refresh_from, Unix seconds (v3)
        ("e", pa.string()),  # 'optout' | 'invalid identifier' | other reason
        ("b", pa.string()),  # salt bucket (v2)
    ]
)
_ITEM_SCHEMA = pa.schema([ANSWER_SCHEMA.field(n) for n in ("u", "p", "r", "e", "b")])


def _answer_table(dii_type: str, answers: list[dict[str, Any]]) -> pa.Table:
    """Columnar answers without a Python loop per field: DuckDB takes it from here."""
    items = pa.Table.from_pylist(answers, schema=_ITEM_SCHEMA)
    count = len(answers)
    return pa.table(
        {
            "dii_type": pa.array([dii_type] * count, pa.string()),
            "pos": pa.array(range(count), pa.int64()),
            **{name: items.column(name) for name in _ITEM_SCHEMA.names},
        },
        schema=ANSWER_SCHEMA,
    )


def _check_size(count: int) -> None:
    if count > MAX_BATCH:
        raise ValueError(f"{count} identifiers exceed the {MAX_BATCH} per request limit")


def _success_body(text: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise FatalAPIError(f"{what}: the operator's answer is not JSON") from None
    if not isinstance(document, dict) or document.get("status") != "success":
        status = document.get("status") if isinstance(document, dict) else None
        raise FatalAPIError(f"{what}: unexpected operator status {status!r}")
    body = document.get("body")
    if not isinstance(body, dict):
        raise FatalAPIError(f"{what}: the operator's answer has no body")
    return body


def _operator_message(response: requests.Response) -> str:
    """The operator's status/message, which describe the request, never its identifiers."""
    try:
        body = response.json()
    except ValueError:
        return "no JSON body"
    if not isinstance(body, dict):
        return "unexpected body"
    return f"{body.get('status', '?')}: {str(body.get('message', ''))[:200]}"
