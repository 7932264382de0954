"""The UID2 sandbox speaks the real wire contract: the unmodified SDK clients are the judges."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from uid2_client import (
    IdentityMapClient,
    IdentityMapInput,
    IdentityMapV3Client,
    IdentityMapV3Input,
    UnmappedIdentityReason,
    normalize_and_hash_email,
)
from uid2_client.request_response_util import create_envelope, parse_response
from uid2_client.uid2_response import Uid2Response

from identity_pipeline.sandboxes.common import CLOCK_PATH, STATS_PATH
from identity_pipeline.sandboxes.uid2 import (
    FAULT_KINDS,
    MAPPED_TEST_IDENTITIES,
    OPTOUT_TEST_IDENTITIES,
    OPTOUTS_PATH,
    UID2Sandbox,
    UID2SandboxConfig,
    bucket_id,
)
from identity_pipeline.sandboxes.uid2_envelope import MAX_IDENTIFIERS
from identity_pipeline_tests.sandboxes.overlap import call_at_once
from identity_pipeline_tests.sandboxes.sandbox_process import sandbox_process

V3 = "/v3/identity/map"
EMAILS = [f"person{i}@example.com" for i in range(40)]


def email_hash(email: str) -> str:
    return base64.b64encode(hashlib.sha256(email.encode()).digest()).decode()


@pytest.fixture
def start() -> Iterator[Callable[..., UID2Sandbox]]:
    """Start sandboxes on free ports with config overrides; all are stopped afterwards."""
    started: list[UID2Sandbox] = []

    def _start(**overrides: Any) -> UID2Sandbox:
        sandbox = UID2Sandbox(UID2SandboxConfig(**{"optout_rate": 0.0, **overrides})).start()
        started.append(sandbox)
        return sandbox

    yield _start
    for sandbox in started:
        sandbox.stop()


def v3(sandbox: UID2Sandbox, api_key: str | None = None) -> IdentityMapV3Client:
    return IdentityMapV3Client(
        sandbox.base_url, api_key or sandbox.config.api_key, sandbox.config.secret
    )


def v2(sandbox: UID2Sandbox) -> IdentityMapClient:
    return IdentityMapClient(sandbox.base_url, sandbox.config.api_key, sandbox.config.secret)


def post(
    sandbox: UID2Sandbox, path: str, payload: object, now: datetime | None = None
) -> tuple[requests.Response, bytes]:
    """Send an SDK-built envelope without the SDK's client, to see raw statuses and bodies."""
    secret = base64.b64decode(sandbox.config.secret)
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    envelope = create_envelope(secret, now or datetime.now(UTC), body)
    headers = {
        "Authorization": f"Bearer {sandbox.config.api_key}",
        "Content-Type": "application/octet-stream",
    }
    url = sandbox.base_url + path
    return requests.post(
        url, data=envelope.binary_envelope, headers=headers, timeout=10
    ), envelope.nonce


def decrypt(sandbox: UID2Sandbox, response: requests.Response, nonce: bytes) -> Any:
    secret = base64.b64decode(sandbox.config.secret)
    return json.loads(parse_response(secret, Uid2Response.from_bytes(response.content), nonce))


def map_v3(sandbox: UID2Sandbox, emails: list[str]) -> dict[str, Any]:
    response = v3(sandbox).generate_identity_map(IdentityMapV3Input.from_emails(emails))
    return {
        email: (m.current_raw_uid, m.previous_raw_uid, m.refresh_from)
        for email, m in response.mapped_identities.items()
    } | {email: u.reason for email, u in response.unmapped_identities.items()}


def test_v3_maps_mixed_inputs_through_the_sdk(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    now = sandbox.clock.now()
    request = (
        IdentityMapV3Input.from_emails(["TEst.TEst+123@GMail.Com", "other@example.com"])
        .with_hashed_email(email_hash("testtest@gmail.com"))
        .with_hashed_email("not base64!")
        .with_hashed_email(base64.b64encode(b"short").decode())
        .with_phone("+12345678901")
        .with_hashed_phone(email_hash("+12345678901"))
    )
    response = v3(sandbox).generate_identity_map(request)
    mapped, unmapped = response.mapped_identities, response.unmapped_identities
    assert set(unmapped) == {"not base64!", base64.b64encode(b"short").decode()}
    assert {u.reason for u in unmapped.values()} == {UnmappedIdentityReason.INVALID_IDENTIFIER}
    gmail = mapped["TEst.TEst+123@GMail.Com"]
    assert gmail.current_raw_uid == mapped[email_hash("testtest@gmail.com")].current_raw_uid
    assert (
        mapped["+12345678901"].current_raw_uid == mapped[email_hash("+12345678901")].current_raw_uid
    )
    assert mapped["+12345678901"].current_raw_uid != gmail.current_raw_uid
    for m in mapped.values():
        assert len(m.current_raw_uid) == 44 and len(base64.b64decode(m.current_raw_uid)) == 33
        assert now < m.refresh_from <= now + timedelta(days=366)


def test_v3_raw_arrays_are_normalized_and_answered_in_order(
    start: Callable[..., UID2Sandbox],
) -> None:
    sandbox = start()
    payload = {
        "email": ["TEst.TEst+123@GMail.Com", "a@", "x@ba@z.com"],
        "email_hash": [email_hash("testtest@gmail.com")],
        "phone": ["5555555555", "+12345678901"],
    }
    response, nonce = post(sandbox, V3, payload)
    assert response.status_code == 200
    answer = decrypt(sandbox, response, nonce)
    body = answer["body"]
    assert answer["status"] == "success" and body["phone_hash"] == []
    assert body["email"][0] == body["email_hash"][0] and set(body["email"][0]) == {"u", "p", "r"}
    assert body["email"][1:] == [{"e": "invalid identifier"}] * 2
    assert body["phone"][0] == {"e": "invalid identifier"} and "u" in body["phone"][1]
    assert sandbox.stats.identifiers == 6


def test_same_seed_same_answers_other_seed_differs(start: Callable[..., UID2Sandbox]) -> None:
    first, second = map_v3(start(optout_rate=0.3), EMAILS), map_v3(start(optout_rate=0.3), EMAILS)
    assert first == second
    assert UnmappedIdentityReason.OPTOUT in first.values()
    other = map_v3(start(optout_rate=0.3, seed=7), EMAILS)
    assert all(
        first[e][0] != other[e][0]
        for e in EMAILS
        if isinstance(first[e], tuple) and isinstance(other[e], tuple)
    )


def test_optouts_grow_at_runtime(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    assert all(isinstance(v, tuple) for v in map_v3(sandbox, EMAILS[:3]).values())
    sandbox.add_optouts([email_hash(EMAILS[0])])
    admin = requests.post(
        sandbox.base_url + OPTOUTS_PATH, json={"email_hash": [email_hash(EMAILS[1])]}, timeout=5
    )
    assert admin.json() == {"status": "success", "added": 1}
    after = map_v3(sandbox, EMAILS[:3])
    assert after[EMAILS[0]] == after[EMAILS[1]] == UnmappedIdentityReason.OPTOUT
    assert isinstance(after[EMAILS[2]], tuple)
    legacy = v2(sandbox).generate_identity_map(IdentityMapInput.from_emails(EMAILS[:3]))
    assert legacy.unmapped_identities[EMAILS[0]].get_reason() == "optout"
    assert set(legacy.mapped_identities) == {EMAILS[2]}


def test_clock_past_rotation_changes_uid_and_keeps_previous(
    start: Callable[..., UID2Sandbox],
) -> None:
    sandbox = start()
    email = EMAILS[5]
    current, _, refresh = map_v3(sandbox, [email])[email]
    sandbox.advance_days((refresh - sandbox.clock.now()).total_seconds() / 86_400 + 1)
    rotated, previous, next_refresh = map_v3(sandbox, [email])[email]
    assert rotated != current and previous == current
    assert timedelta(days=364) < next_refresh - refresh < timedelta(days=366)
    clock = requests.post(sandbox.base_url + CLOCK_PATH, json={"advance_days": 91}, timeout=5)
    assert clock.status_code == 200  # 90 days after the rotation the previous UID2 is gone
    assert map_v3(sandbox, [email])[email] == (rotated, None, next_refresh)


def test_v2_map_and_buckets_report_rotations(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    legacy = v2(sandbox).generate_identity_map(IdentityMapInput.from_emails(EMAILS))
    current = map_v3(sandbox, EMAILS)
    for email, mapped in legacy.mapped_identities.items():
        assert mapped.get_raw_uid() == current[email][0]
    soonest = min(EMAILS, key=lambda e: current[e][2])
    bucket = legacy.mapped_identities[soonest].get_bucket_id()
    since = sandbox.clock.now()
    rotated = v2(sandbox).get_identity_buckets(since).buckets
    assert rotated == []
    sandbox.advance_days((current[soonest][2] - since).total_seconds() / 86_400 + 1)
    rotated = v2(sandbox).get_identity_buckets(since).buckets
    assert bucket in {b.get_bucket_id() for b in rotated}
    assert all(
        datetime.fromisoformat(b.get_last_updated()) > since.replace(tzinfo=None) for b in rotated
    )
    one_day = v2(sandbox).get_identity_buckets(sandbox.clock.now() - timedelta(days=1)).buckets
    assert 2_800 < len({b.get_bucket_id() for b in one_day}) == len(one_day) < 2_950


def test_v2_rejects_more_than_one_identity_type(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    payload = {"email_hash": [email_hash("a@b.com")], "phone_hash": [email_hash("+12345678901")]}
    response, _ = post(sandbox, "/v2/identity/map", payload)
    assert response.status_code == 400 and response.json()["status"] == "client_error"


def test_wrong_or_missing_api_key_is_401(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    with pytest.raises(urllib.error.HTTPError) as caught:
        v3(sandbox, api_key="wrong").generate_identity_map(
            IdentityMapV3Input.from_emails(EMAILS[:1])
        )
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["status"] == "unauthorized"
    assert requests.post(sandbox.base_url + V3, data=b"x", timeout=5).status_code == 401


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"email_hash": [email_hash(f"{i}@x.com") for i in range(MAX_IDENTIFIERS + 1)]},
            "Too many",
        ),
        ({"email": ["x" * 1000 + "@example.com"] * 1100}, "body over"),
        ({}, "missing"),
        ({"emails": ["a@b.com"]}, "missing"),
        ({"email_hash": "abc"}, "Incorrect request format"),
        ({"email": [1, 2]}, "Incorrect request format"),
        (b"not json", "Incorrect request format"),
        ([1, 2], "Incorrect request format"),
    ],
)
def test_bad_requests_are_400(
    start: Callable[..., UID2Sandbox], payload: object, message: str
) -> None:
    response, _ = post(start(), V3, payload)
    assert response.status_code == 400
    assert response.json()["status"] == "client_error" and message in response.json()["message"]


def test_envelope_must_be_fresh_and_ours(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    payload = {"email_hash": [email_hash("a@b.com")]}
    stale, _ = post(sandbox, V3, payload, now=datetime.now(UTC) - timedelta(seconds=61))
    assert stale.status_code == 400 and "too old" in stale.json()["message"]
    recent, nonce = post(sandbox, V3, payload, now=datetime.now(UTC) - timedelta(seconds=30))
    assert recent.status_code == 200 and decrypt(sandbox, recent, nonce)["status"] == "success"
    sandbox.advance_days(30)  # the sandbox clock moves; envelope freshness stays on real time
    assert post(sandbox, V3, payload)[0].status_code == 200
    headers = {"Authorization": f"Bearer {sandbox.config.api_key}"}
    garbage = requests.post(
        sandbox.base_url + V3, data=b"\x01" + b"0" * 60, headers=headers, timeout=5
    )
    assert garbage.status_code == 400 and "decrypted" in garbage.json()["message"]


def test_rate_limit_answers_429_without_body(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start(rate_limit_rps=5)
    payload = {"email_hash": [email_hash("a@b.com")]}
    statuses = []
    began = time.monotonic()
    for _ in range(20):
        response, _ = post(sandbox, V3, payload)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.content == b""
    refilled = int((time.monotonic() - began) * 5)  # tokens earned while the burst ran
    assert 5 <= statuses.count(200) <= 5 + refilled + 1 and statuses.count(429) >= 20 - 6 - refilled
    time.sleep(0.5)
    assert post(sandbox, V3, payload)[0].status_code == 200
    assert sandbox.stats.by_status[429] == statuses.count(429)


def test_reject_parallel_gives_overlapping_requests_429(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start(reject_parallel=True, latency_ms=300)
    payload = {"email_hash": [email_hash("a@b.com")]}
    statuses, seconds = call_at_once(lambda: post(sandbox, V3, payload)[0].status_code, 4)
    assert seconds >= 0.3
    assert statuses.count(429) >= 1 and statuses.count(200) >= 1
    assert sandbox.stats.max_concurrent >= 2
    for _ in range(5):  # one after another is always fine
        v3(sandbox).generate_identity_map(IdentityMapV3Input.from_emails(EMAILS[:2]))


def test_fault_injection_produces_every_kind_and_keeps_answers(
    start: Callable[..., UID2Sandbox],
) -> None:
    faulty, healthy = start(fault_rate=1.0, slow_reply_seconds=0.3), start()
    payload = {"email_hash": [email_hash(e) for e in EMAILS[:3]]}
    reference, nonce = post(healthy, V3, payload)
    expected = decrypt(healthy, reference, nonce)
    seen: set[str] = set()
    for _ in range(40):
        began = time.monotonic()
        try:
            response, nonce = post(faulty, V3, payload)
        except requests.ConnectionError:
            seen.add("drop")
            continue
        if response.status_code == 200:
            assert time.monotonic() - began >= 0.3
            assert decrypt(faulty, response, nonce) == expected
            seen.add("slow")
        else:
            assert response.status_code in (429, 500, 503)
            assert (response.content == b"") == (response.status_code == 429)
            seen.add(f"status_{response.status_code}")
        if seen == set(FAULT_KINDS):
            break
    assert seen == set(FAULT_KINDS)
    assert set(faulty.stats.faults) == set(FAULT_KINDS)


def test_admin_endpoints(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start()
    before = datetime.fromisoformat(
        requests.get(sandbox.base_url + CLOCK_PATH, timeout=5).json()["now"]
    )
    moved = requests.post(sandbox.base_url + CLOCK_PATH, json={"advance_days": 2}, timeout=5)
    assert datetime.fromisoformat(moved.json()["now"]) - before >= timedelta(days=2)
    back = requests.post(sandbox.base_url + CLOCK_PATH, json={"advance_days": -1}, timeout=5)
    assert back.status_code == 400
    map_v3(sandbox, EMAILS[:3])
    stats = requests.get(sandbox.base_url + STATS_PATH, timeout=5).json()
    assert stats["requests"] == 1 and stats["by_status"] == {"200": 1} and stats["identifiers"] == 3


def test_cli_prints_address_serves_and_stops_on_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "identity_pipeline.sandboxes.uid2",
        "--port",
        "0",
        "--seed",
        "9",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        base_url = line.removeprefix("listening on ")
        defaults = UID2SandboxConfig()
        client = IdentityMapV3Client(base_url, defaults.api_key, defaults.secret)
        response = client.generate_identity_map(IdentityMapV3Input.from_emails(["cli@example.com"]))
        assert len(response.mapped_identities) + len(response.unmapped_identities) == 1
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 0
        assert f"POST {V3} 200" in stderr and "cli@example.com" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def answers_v3_and_v2(sandbox: UID2Sandbox, value: str) -> list[str]:
    """How v3 and v2 answer one identity sent raw and hashed: 'mapped' or the unmapped reason.

    Four answers per API: raw and hashed, each in one request of its own.
    """
    kind = "emails" if "@" in value else "phones"
    hashed = normalize_and_hash_email(value) if kind == "emails" else email_hash(value)
    got = []
    for client, factory in ((v3(sandbox), IdentityMapV3Input), (v2(sandbox), IdentityMapInput)):
        for method, dii in ((kind, value), (f"hashed_{kind}", hashed)):
            response = client.generate_identity_map(getattr(factory, f"from_{method}")([dii]))
            if dii in response.mapped_identities:
                got.append("mapped")
            else:
                reason = response.unmapped_identities[dii].reason  # v3: an enum, v2: text
                got.append(getattr(reason, "value", reason))
    return got


@pytest.mark.parametrize("optout_rate", [0.0, 0.02, 1.0])
def test_integration_test_identities_answer_the_same_whatever_the_optout_rate(
    start: Callable[..., UID2Sandbox], optout_rate: float
) -> None:
    sandbox = start(optout_rate=optout_rate)
    for value in OPTOUT_TEST_IDENTITIES:
        assert answers_v3_and_v2(sandbox, value) == ["optout"] * 4, value
    for value in MAPPED_TEST_IDENTITIES:
        assert answers_v3_and_v2(sandbox, value) == ["mapped"] * 4, value
    ordinary = map_v3(sandbox, EMAILS)
    opted_out = sum(answer == UnmappedIdentityReason.OPTOUT for answer in ordinary.values())
    if optout_rate in (0.0, 1.0):  # the rate is in force for every other identity
        assert opted_out == optout_rate * len(EMAILS)


def test_test_identities_are_matched_after_normalization_and_by_type(
    start: Callable[..., UID2Sandbox],
) -> None:
    sandbox = start()  # opt-out rate 0: only the test identities can opt out
    spellings = ["OptOut@Example.com", "  optout@example.com", "OPTOUT@EXAMPLE.COM  "]
    answer = map_v3(sandbox, spellings)
    assert all(answer[s] == UnmappedIdentityReason.OPTOUT for s in spellings)
    # The operator matches a test identity on its type too: the email's hash sent as a phone
    # hash, or the phone's hash sent as an email hash, is an ordinary identity.
    swapped = IdentityMapV3Input.from_hashed_phones(
        [normalize_and_hash_email("optout@example.com")]
    ).with_hashed_email(email_hash("+00000000000"))
    response = v3(sandbox).generate_identity_map(swapped)
    assert len(response.mapped_identities) == 2 and response.unmapped_identities == {}


def test_always_mapped_test_identities_ignore_the_optout_list(
    start: Callable[..., UID2Sandbox],
) -> None:
    sandbox = start()
    hashes = [
        normalize_and_hash_email(v) if "@" in v else email_hash(v) for v in MAPPED_TEST_IDENTITIES
    ]
    sandbox.add_optouts([*hashes, email_hash(EMAILS[0])])
    for value in MAPPED_TEST_IDENTITIES:
        assert answers_v3_and_v2(sandbox, value) == ["mapped"] * 4, value
    assert map_v3(sandbox, EMAILS[:1])[EMAILS[0]] == UnmappedIdentityReason.OPTOUT


def test_v2_every_mapped_identity_carries_its_bucket_id(start: Callable[..., UID2Sandbox]) -> None:
    sandbox = start(optout_rate=0.3)
    emails = [f"bucket{i}@example.com" for i in range(300)]
    phones = [f"+1415555{i:04d}" for i in range(300)]
    for request, values in (
        (IdentityMapInput.from_emails(emails), emails),
        (IdentityMapInput.from_phones(phones), phones),
        (IdentityMapInput.from_hashed_emails([email_hash(e) for e in emails]), None),
    ):
        response = v2(sandbox).generate_identity_map(request)
        mapped, unmapped = response.mapped_identities, response.unmapped_identities
        assert 150 < len(mapped) < 250 and len(mapped) + len(unmapped) == 300
        assert values is None or set(mapped) | set(unmapped) == set(values)
        ids = [m.get_bucket_id() for m in mapped.values()]
        assert all(isinstance(b, str) and len(b) == 4 and b.isalnum() for b in ids)
        assert len(set(ids)) > 0.95 * len(ids)  # a million buckets: almost no two share one
    # The bucket id is the identity's own: the same answer on every call, in v2's id format.
    again = v2(sandbox).generate_identity_map(IdentityMapInput.from_emails(emails[:50]))
    first = v2(sandbox).generate_identity_map(IdentityMapInput.from_emails(emails[:50]))
    assert {e: m.get_bucket_id() for e, m in again.mapped_identities.items()} == {
        e: m.get_bucket_id() for e, m in first.mapped_identities.items()
    }
    assert bucket_id(0) == "0000" and bucket_id(62**4 - 1) == "zzzz"


def test_cli_optout_rate_one_still_maps_the_validate_identities(tmp_path: Path) -> None:
    defaults = UID2SandboxConfig()
    with sandbox_process("uid2", tmp_path / "sandbox.log", "--optout-rate", "1") as base_url:
        client = IdentityMapV3Client(base_url, defaults.api_key, defaults.secret)
        identities = ["validate@example.com", "optout@example.com", "someone@example.com"]
        request = IdentityMapV3Input.from_emails(identities).with_phones(
            ["+12345678901", "+00000000000", "+14155550100"]
        )
        response = client.generate_identity_map(request)
    assert set(response.mapped_identities) == {"validate@example.com", "+12345678901"}
    assert {d: u.reason for d, u in response.unmapped_identities.items()} == {
        d: UnmappedIdentityReason.OPTOUT
        for d in ("optout@example.com", "someone@example.com", "+00000000000", "+14155550100")
    }
