"""The UID2 SDK maintainers' integration cases, held against our sandbox.

The official `uid2-client-python` repository checks its identity-map clients against the UID2
integration environment in `tests/test_identity_map_v3_client.py` (v3) and
`tests/test_identity_map_client.py` (v2). Each case there is expressed here once more, in our
words, and run with the unmodified SDK against `identity-pipeline sandbox uid2` started as a user
starts it (its own process, default options, default credentials): whatever client code holds
against the integration environment for these identities must hold against the sandbox too.

Cases common to both clients run once per client version (`v3`, `v2`); the mixed-type cases
exist only in v3 (v2 takes one identity type per request), the salt-bucket cases only in v2.
Two cases are adapted to run here: the "bad URL" cases use a closed port on 127.0.0.1 instead
of an unresolvable host (no network but 127.0.0.1 in our tests), and the v2 "invalid hashed
phone" case sends hashed phones (the SDK's v2 test sends them as hashed emails).
"""

from __future__ import annotations

import base64
import inspect
import sys
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from uid2_client import (
    IdentityMapClient,
    IdentityMapInput,
    IdentityMapV3Client,
    IdentityMapV3Input,
    normalize_and_hash_email,
    normalize_and_hash_phone,
)

from identity_pipeline.sandboxes.uid2 import UID2SandboxConfig
from identity_pipeline_tests.sandboxes.sandbox_process import closed_port_url, sandbox_process

CREDENTIALS = UID2SandboxConfig()  # what `identity-pipeline sandbox uid2` serves by default
OTHER_SECRET = base64.b64encode(bytes(range(32))).decode()  # a well-formed key, not the sandbox's

NOT_OPTED_OUT = "hopefully-not-opted-out@example.com"
SOMETHING_ELSE = "somethingelse@example.com"
OPTOUT_EMAIL = "optout@example.com"
PHONES = ("+12345678901", "+98765432109")
OPTOUT_PHONE = "+00000000000"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("uid2-sdk-cases") / "sandbox.log"
    with sandbox_process("uid2", log) as url:
        yield url
    # Only hashes cross the wire and the access log keeps method, path and status: no raw
    # identity of these cases may show up in it.
    text = log.read_text()
    assert "@example.com" not in text and OPTOUT_PHONE not in text


@dataclass(frozen=True)
class Answer:
    """One identity-map answer in the shape both SDK clients share: dii -> result."""

    mapped: dict[str, Any]
    unmapped: dict[str, str]
    """dii -> the unmapped reason as the wire says it ('optout', 'invalid identifier')."""


@dataclass(frozen=True)
class Api:
    """One SDK client (v3 or v2) and how its answers are checked."""

    version: str
    base_url: str

    def client(
        self, url: str | None = None, key: str | None = None, secret: str | None = None
    ) -> Any:
        make = IdentityMapV3Client if self.version == "v3" else IdentityMapClient
        return make(url or self.base_url, key or CREDENTIALS.api_key, secret or CREDENTIALS.secret)

    def build(self, kind: str, values: list[str]) -> Any:
        """An SDK input: kind is emails, phones, hashed_emails or hashed_phones."""
        factory = IdentityMapV3Input if self.version == "v3" else IdentityMapInput
        return getattr(factory, f"from_{kind}")(values)

    def send(self, identity_input: Any, client: Any = None) -> Answer:
        response = (client or self.client()).generate_identity_map(identity_input)
        unmapped = {
            dii: u.reason.value if self.version == "v3" else u.get_reason()
            for dii, u in response.unmapped_identities.items()
        }
        return Answer(dict(response.mapped_identities), unmapped)

    def map(self, kind: str, values: list[str]) -> Answer:
        return self.send(self.build(kind, values))

    def raw_uid(self, mapped: Any) -> str:
        uid: str = mapped.current_raw_uid if self.version == "v3" else mapped.get_raw_uid()
        return uid

    def assert_mapped(self, answer: Answer, dii: str) -> None:
        """The SDK's check, a little stricter: a 33-byte raw UID2, plus the version's extra."""
        mapped = answer.mapped.get(dii)
        assert mapped is not None, f"{dii} not mapped: {answer.unmapped.get(dii)}"
        assert len(base64.b64decode(self.raw_uid(mapped))) == 33
        if self.version == "v3":  # refresh_from is now or later, with a minute of slack
            assert mapped.refresh_from > datetime.now(UTC) - timedelta(seconds=60)
        else:  # v2 refresh is by salt bucket, so every mapped identity names its bucket
            assert isinstance(mapped.get_bucket_id(), str) and mapped.get_bucket_id()
        assert dii not in answer.unmapped

    def assert_unmapped(self, answer: Answer, reason: str, dii: str) -> None:
        assert answer.unmapped.get(dii) == reason
        assert dii not in answer.mapped


@pytest.fixture(params=["v3", "v2"])
def api(request: pytest.FixtureRequest, base_url: str) -> Api:
    return Api(request.param, base_url)


@pytest.fixture
def v3(base_url: str) -> Api:
    return Api("v3", base_url)


@pytest.fixture
def v2(base_url: str) -> Api:
    return Api("v2", base_url)


# -- cases of both test files -------------------------------------------------------------------


def test_emails_map_and_the_optout_email_opts_out(api: Api) -> None:
    answer = api.map("emails", [NOT_OPTED_OUT, SOMETHING_ELSE, OPTOUT_EMAIL])
    api.assert_mapped(answer, NOT_OPTED_OUT)
    api.assert_mapped(answer, SOMETHING_ELSE)
    api.assert_unmapped(answer, "optout", OPTOUT_EMAIL)


def test_nothing_unmapped(api: Api) -> None:
    answer = api.map("emails", [NOT_OPTED_OUT, SOMETHING_ELSE])
    api.assert_mapped(answer, NOT_OPTED_OUT)
    api.assert_mapped(answer, SOMETHING_ELSE)
    assert answer.unmapped == {}


def test_nothing_mapped(api: Api) -> None:
    answer = api.map("emails", [OPTOUT_EMAIL])
    api.assert_unmapped(answer, "optout", OPTOUT_EMAIL)
    assert answer.mapped == {}


def test_sdk_refuses_an_invalid_email_before_sending(api: Api) -> None:
    with pytest.raises(ValueError):
        api.build("emails", ["email@example.com", "this is not an email"])


def test_sdk_refuses_an_invalid_phone_before_sending(api: Api) -> None:
    with pytest.raises(ValueError):
        api.build("phones", ["+12345678901", "this is not a phone number"])


def test_invalid_hashed_email_is_an_invalid_identifier(api: Api) -> None:
    answer = api.map("hashed_emails", ["this is not a hashed email"])
    api.assert_unmapped(answer, "invalid identifier", "this is not a hashed email")


def test_invalid_hashed_phone_is_an_invalid_identifier(api: Api) -> None:
    answer = api.map("hashed_phones", ["this is not a hashed phone"])
    api.assert_unmapped(answer, "invalid identifier", "this is not a hashed phone")


def test_hashed_emails_map_and_the_optout_hash_opts_out(api: Api) -> None:
    first, second = (
        normalize_and_hash_email(NOT_OPTED_OUT),
        normalize_and_hash_email(SOMETHING_ELSE),
    )
    optout = normalize_and_hash_email(OPTOUT_EMAIL)
    answer = api.map("hashed_emails", [first, second, optout])
    api.assert_mapped(answer, first)
    api.assert_mapped(answer, second)
    api.assert_unmapped(answer, "optout", optout)


def test_spellings_of_one_gmail_address_share_one_uid(api: Api) -> None:
    spellings = [
        "JANE.SAOIRSE@gmail.com",
        "Jane.Saoirse@gmail.com",
        "JaneSaoirse+UID2@gmail.com",
        "janesaoirse@gmail.com",
        "JANE.SAOIRSE@gmail.com",
    ]
    answer = api.map("emails", spellings)
    assert len(answer.mapped) == 4  # the repeated spelling is one key
    assert len({api.raw_uid(m) for m in answer.mapped.values()}) == 1


def test_duplicate_hashed_emails(api: Api) -> None:
    mapped, optout = normalize_and_hash_email(NOT_OPTED_OUT), normalize_and_hash_email(OPTOUT_EMAIL)
    answer = api.map("hashed_emails", [mapped, mapped, optout, optout])
    api.assert_mapped(answer, mapped)
    api.assert_unmapped(answer, "optout", optout)


def test_empty_input(api: Api) -> None:
    answer = api.map("emails", [])
    assert answer.mapped == {} and answer.unmapped == {}


def test_phones_map_and_the_optout_phone_opts_out(api: Api) -> None:
    answer = api.map("phones", [*PHONES, OPTOUT_PHONE])
    for phone in PHONES:
        api.assert_mapped(answer, phone)
    api.assert_unmapped(answer, "optout", OPTOUT_PHONE)


def test_hashed_phones_map_and_the_optout_hash_opts_out(api: Api) -> None:
    hashes = [normalize_and_hash_phone(p) for p in PHONES]
    optout = normalize_and_hash_phone(OPTOUT_PHONE)
    answer = api.map("hashed_phones", [*hashes, optout])
    for hashed in hashes:
        api.assert_mapped(answer, hashed)
    api.assert_unmapped(answer, "optout", optout)


def _calls(api: Api, client: Any) -> list[Callable[[], object]]:
    """What a client can be asked: a map call, and in v2 also the salt-bucket call."""
    identity_input = api.build("emails", [NOT_OPTED_OUT, SOMETHING_ELSE, OPTOUT_EMAIL])
    calls: list[Callable[[], object]] = [lambda: client.generate_identity_map(identity_input)]
    if api.version == "v2":
        calls.append(
            lambda: client.get_identity_buckets(datetime.now())
        )  # local time, as the SDK's
    return calls


def test_nothing_listening_at_the_url_is_a_url_error(api: Api) -> None:
    for call in _calls(api, api.client(url=closed_port_url())):
        with pytest.raises(urllib.error.URLError):
            call()


def test_a_bad_api_key_is_an_http_error(api: Api) -> None:
    for call in _calls(api, api.client(key="bad-api-key")):
        with pytest.raises(urllib.error.HTTPError) as caught:
            call()
        assert caught.value.code == 401


def test_a_bad_secret_is_an_http_error(api: Api) -> None:
    for call in _calls(api, api.client(secret=OTHER_SECRET)):
        with pytest.raises(urllib.error.HTTPError) as caught:
            call()
        assert caught.value.code == 400  # the envelope cannot be opened with the sandbox's key


# -- v3 only: every identity type in one request ------------------------------------------------


def test_v3_all_identity_types_in_one_request(v3: Api) -> None:
    mapped_email, mapped_phone = NOT_OPTED_OUT, PHONES[0]
    mapped_email_hash = normalize_and_hash_email("mapped-email@example.com")
    optout_email_hash = normalize_and_hash_email(OPTOUT_EMAIL)
    mapped_phone_hash = normalize_and_hash_phone(mapped_phone)
    optout_phone_hash = normalize_and_hash_phone(OPTOUT_PHONE)
    identity_input = (
        IdentityMapV3Input.from_emails([mapped_email, OPTOUT_EMAIL])
        .with_hashed_emails([mapped_email_hash, optout_email_hash])
        .with_phones([mapped_phone, OPTOUT_PHONE])
        .with_hashed_phones([mapped_phone_hash, optout_phone_hash])
    )
    answer = v3.send(identity_input)
    for dii in (mapped_email, mapped_email_hash, mapped_phone, mapped_phone_hash):
        v3.assert_mapped(answer, dii)
    for dii in (OPTOUT_EMAIL, optout_email_hash, OPTOUT_PHONE, optout_phone_hash):
        v3.assert_unmapped(answer, "optout", dii)


def test_v3_all_identity_types_added_one_by_one(v3: Api) -> None:
    mapped_phone_hash = normalize_and_hash_phone(PHONES[0])
    optout_email_hash = normalize_and_hash_email(OPTOUT_EMAIL)
    identity_input = IdentityMapV3Input()
    identity_input.with_email(NOT_OPTED_OUT)
    identity_input.with_phone(OPTOUT_PHONE)
    identity_input.with_hashed_phone(mapped_phone_hash)
    identity_input.with_hashed_email(optout_email_hash)
    answer = v3.send(identity_input)
    v3.assert_mapped(answer, NOT_OPTED_OUT)
    v3.assert_mapped(answer, mapped_phone_hash)
    v3.assert_unmapped(answer, "optout", OPTOUT_PHONE)
    v3.assert_unmapped(answer, "optout", optout_email_hash)


# -- v2 only: salt buckets ----------------------------------------------------------------------


def test_v2_buckets_rotated_in_the_last_90_days(v2: Api) -> None:
    since = datetime.now() - timedelta(days=90)  # local time, as the SDK's test
    response = v2.client().get_identity_buckets(since)
    assert response.is_success and len(response.buckets) > 0


def test_v2_no_buckets_rotated_since_tomorrow(v2: Api) -> None:
    since = datetime.now() + timedelta(days=1)  # local time, as the SDK's test
    response = v2.client().get_identity_buckets(since)
    assert response.is_success and response.buckets == []


def test_case_count_matches_the_sdk_files() -> None:
    """16 cases in both files (each run for v3 and v2), 2 only in v3, 2 only in v2: 36 in all."""
    module = sys.modules[__name__]
    cases = [
        function
        for name, function in vars(module).items()
        if name.startswith("test_") and name != "test_case_count_matches_the_sdk_files"
    ]
    runs = sum(2 if "api" in inspect.signature(f).parameters else 1 for f in cases)
    assert (len(cases), runs) == (20, 36)
