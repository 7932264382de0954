"""The ID5 sandbox speaks seed 004's contract over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import logging
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from identity_pipeline.sandboxes.common import CLOCK_PATH, STATS_PATH
from identity_pipeline.sandboxes.id5 import (
    ID5Sandbox,
    ID5SandboxConfig,
    _parser,
    main,
)
from identity_pipeline_tests.sandboxes.overlap import call_at_once

TOKEN = ID5SandboxConfig().token
TIMEOUT = 10


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def post(
    sandbox: ID5Sandbox,
    body: Any,
    *,
    token: str | None = TOKEN,
    partner: object = None,
) -> requests.Response:
    partner = sandbox.config.partner if partner is None else partner
    url = f"{sandbox.base_url}/partners/v1/{partner}/signals"
    params = {} if token is None else {"token": token}
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, str | bytes) else {"json": body}
    return requests.post(url, params=params, timeout=TIMEOUT, **kwargs)


def uids(sandbox: ID5Sandbox, emails: list[str]) -> list[str]:
    response = post(sandbox, {"users": [{"email_sha256": sha(e)} for e in emails]})
    assert response.status_code == 200, response.text
    return [user["uid"] for user in response.json()["users"]]


@pytest.fixture
def sandbox() -> Iterator[ID5Sandbox]:
    with ID5Sandbox(ID5SandboxConfig()) as running:
        yield running


PEOPLE = [f"person{i}@example.com" for i in range(200)]


def test_seed_example_request_gets_seed_shaped_answers(sandbox: ID5Sandbox) -> None:
    # Seed 004's example request; its placeholder hashes are not hex, so real hashes stand in.
    first, nl, known = sha("a@example.com"), sha("nl@example.nl"), sha("known@example.com")
    users = [
        {"email_sha256": first},
        {"country_alpha2": "NL", "email_sha256": nl},
        {"known_uids": [{"uid": "ID5-123"}], "country_alpha2": "AA", "email_sha256": known},
        {
            "known_uids": [{"uid": "ID5-ABC"}],
            "country_alpha2": "AA",
            "partner_user_id": "0x112233",
            "email_sha256": known,
        },
    ]
    response = post(sandbox, {"users": users})
    assert response.status_code == 200
    answers = response.json()["users"]
    assert [a["email_sha256"] for a in answers] == [first, nl, known, known]
    assert [a["country_alpha2"] for a in answers] == ["AA", "NL", "AA", "AA"]
    assert [set(a) for a in answers[:3]] == [{"uid", "email_sha256", "country_alpha2"}] * 3
    assert answers[3]["partner_user_id"] == "0x112233"
    for answer in answers:
        assert re.fullmatch(r"ID5\*[A-Za-z0-9_-]{56,96}", answer["uid"])
    # Unreadable known uids are ignored, so both known-email rows get that person's one uid.
    assert answers[2]["uid"] == answers[3]["uid"] != answers[0]["uid"]


def test_invalid_users_are_reported_beside_valid_ones(sandbox: ID5Sandbox) -> None:
    good, short = sha("good@example.com"), sha("short@example.com")[1:]
    not_hex = "g" + sha("x@example.com")[1:]
    users = [
        {"email_sha256": good},
        {"email_sha256": good, "country_alpha2": "A"},
        {"email_sha256": short, "country_alpha2": "NL", "partner_user_id": "p3"},
        {"email_sha256": not_hex},
    ]
    response = post(sandbox, {"users": users})
    assert response.status_code == 200
    answers = response.json()["users"]
    assert "uid" in answers[0]
    assert answers[1] == {
        "error": {
            "code": "country_alpha2_invalid",
            "message": "'A' does not conform to ISO 3166-1 alpha-2",
            "type": "validation_error",
        },
        "email_sha256": good,
        "country_alpha2": "A",
    }
    assert answers[2]["error"]["code"] == "sha256_length_invalid"
    assert answers[2]["partner_user_id"] == "p3"
    assert answers[3]["error"]["code"] == "sha256_length_invalid"
    assert all("uid" not in a for a in answers[1:])


def test_all_invalid_users_reproduce_the_seed_error_response(sandbox: ID5Sandbox) -> None:
    valid = "4592092e1061c7ea85af2aed194621cc17a2762bae33a79bf8ce33fd0168b802"
    short = "150e219c0f8f3ad73f21a78c9376b15cb9ae96e36959f5406ed836f517f746s"
    users = [
        {"email_sha256": valid, "country_alpha2": "A"},
        {"email_sha256": short, "country_alpha2": "NL"},
    ]
    response = post(sandbox, {"users": users})
    assert response.status_code == 400
    assert response.json() == {
        "users": [
            {
                "error": {
                    "code": "country_alpha2_invalid",
                    "message": "'A' does not conform to ISO 3166-1 alpha-2",
                    "type": "validation_error",
                },
                "email_sha256": valid,
                "country_alpha2": "A",
            },
            {
                "error": {
                    "code": "sha256_length_invalid",
                    "message": f"'{short}' does not conform to SHA-256",
                    "type": "validation_error",
                },
                "email_sha256": short,
                "country_alpha2": "NL",
            },
        ],
        "error": {
            "code": "user_objects_invalid",
            "message": "Rejected all user objects due to invalidation errors",
            "type": "validation_error",
        },
    }


ONE_USER = {"users": [{"email_sha256": sha("one@example.com")}]}


@pytest.mark.parametrize(
    ("body", "token", "partner", "status", "code", "kind"),
    [
        (ONE_USER, None, None, 401, "api_token_invalid", "authentication_error"),
        (ONE_USER, "", None, 401, "api_token_invalid", "authentication_error"),
        (ONE_USER, "wrong", None, 403, "api_token_not_authorized", "authentication_error"),
        (ONE_USER, TOKEN, 999, 400, "partner_id_invalid", "invalid_request_error"),
        (ONE_USER, TOKEN, "abc", 400, "partner_id_invalid", "invalid_request_error"),
        ("{not json", TOKEN, None, 400, "request_format_invalid", "invalid_request_error"),
        ("[]", TOKEN, None, 400, "request_format_invalid", "invalid_request_error"),
        ({"users": []}, TOKEN, None, 400, "user_objects_invalid", "invalid_request_error"),
        ({}, TOKEN, None, 400, "user_objects_invalid", "invalid_request_error"),
        ({"users": "x"}, TOKEN, None, 400, "user_objects_invalid", "invalid_request_error"),
        ({"users": ["x"]}, TOKEN, None, 400, "user_objects_invalid", "invalid_request_error"),
        (
            {"users": [{"email_sha256": sha(f"{i}@example.com")} for i in range(1001)]},
            TOKEN,
            None,
            400,
            "user_objects_invalid",
            "invalid_request_error",
        ),
    ],
)
def test_whole_request_errors(
    sandbox: ID5Sandbox,
    body: Any,
    token: str | None,
    partner: object,
    status: int,
    code: str,
    kind: str,
) -> None:
    response = post(sandbox, body, token=token, partner=partner)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (code, kind)
    assert error["message"]


def test_a_thousand_users_are_accepted(sandbox: ID5Sandbox) -> None:
    emails = [f"{i}@example.com" for i in range(1000)]
    assert len(set(uids(sandbox, emails))) == 1000
    assert sandbox.stats.users_received == 1000


def test_rate_limit_answers_429() -> None:
    # One request per 20 s: the second post is refused however slow this machine is.
    with ID5Sandbox(ID5SandboxConfig(rate_limit_rps=0.05)) as limited:
        assert post(limited, ONE_USER).status_code == 200
        response = post(limited, ONE_USER)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limit_error"
        assert response.json()["error"]["type"] == "rate_limit_error"
        assert limited.stats.by_status == {200: 1, 429: 1}


def test_reject_parallel_gives_overlapping_requests_429() -> None:
    config = ID5SandboxConfig(reject_parallel=True, latency_ms=300)
    with ID5Sandbox(config) as sandbox:
        responses, seconds = call_at_once(lambda: post(sandbox, ONE_USER), 4)
        assert seconds >= 0.3  # every request waits out the latency
        statuses = [response.status_code for response in responses]
        assert statuses.count(429) >= 1 and statuses.count(200) >= 1
        for response in responses:
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limit_error"
        assert sandbox.stats.max_concurrent >= 2
        assert sandbox.stats.by_status == {200: statuses.count(200), 429: statuses.count(429)}
        for _ in range(3):  # one after another is always fine
            assert post(sandbox, ONE_USER).status_code == 200
    with ID5Sandbox(ID5SandboxConfig(latency_ms=300)) as tolerant:  # off by default
        call_at_once(lambda: post(tolerant, ONE_USER), 4)
        assert tolerant.stats.by_status == {200: 4}


def test_cli_options_for_latency_and_parallel_requests() -> None:
    args = vars(_parser().parse_args(["--latency-ms", "250", "--reject-parallel"]))
    assert (args["latency_ms"], args["reject_parallel"]) == (250.0, True)
    defaults = vars(_parser().parse_args([]))
    assert (defaults["latency_ms"], defaults["reject_parallel"]) == (0.0, False)
    with pytest.raises(SystemExit) as exited:
        main(["--latency-ms", "-1"])
    assert exited.value.code == 2


def test_uids_are_stable_within_a_period_and_rotate_after_it(sandbox: ID5Sandbox) -> None:
    before = uids(sandbox, PEOPLE)
    assert uids(sandbox, PEOPLE) == before
    sandbox.advance_days(sandbox.config.rotation_days / 2)
    halfway = uids(sandbox, PEOPLE)
    changed = sum(a != b for a, b in zip(before, halfway, strict=True))
    assert 0.25 * len(PEOPLE) < changed < 0.75 * len(PEOPLE)  # per-person phases
    sandbox.advance_days(sandbox.config.rotation_days / 2)
    after = uids(sandbox, PEOPLE)
    assert all(a != b for a, b in zip(before, after, strict=True))
    assert len(set(after)) == len(PEOPLE)


def test_clock_and_stats_admin_endpoints(sandbox: ID5Sandbox) -> None:
    clock_url = sandbox.base_url + CLOCK_PATH
    start = requests.get(clock_url, timeout=TIMEOUT).json()["now"]
    before = uids(sandbox, PEOPLE[:20])
    moved = requests.post(clock_url, json={"advance_days": 30}, timeout=TIMEOUT)
    assert moved.status_code == 200
    assert moved.json()["now"][:10] > start[:10]
    assert all(a != b for a, b in zip(before, uids(sandbox, PEOPLE[:20]), strict=True))
    refused = requests.post(clock_url, json={"advance_days": -1}, timeout=TIMEOUT)
    assert refused.status_code == 400
    stats = requests.get(sandbox.base_url + STATS_PATH, timeout=TIMEOUT).json()
    assert stats["requests"] == 2
    assert stats["by_status"] == {"200": 2}
    assert stats["users_received"] == 40
    assert stats["max_concurrent"] >= 1


def test_known_uids_keep_the_known_lineage(sandbox: ID5Sandbox) -> None:
    alice, bob = sha("alice@example.com"), sha("bob@example.com")
    alice_uid, bob_uid = uids(sandbox, ["alice@example.com", "bob@example.com"])
    assert alice_uid != bob_uid
    linked = post(sandbox, {"users": [{"email_sha256": bob, "known_uids": [{"uid": alice_uid}]}]})
    assert linked.json()["users"][0]["uid"] == alice_uid
    # The link sticks without known_uids, against a later different known uid, and over rotation.
    again = {
        "users": [{"email_sha256": bob}, {"email_sha256": bob, "known_uids": [{"uid": bob_uid}]}]
    }
    assert [u["uid"] for u in post(sandbox, again).json()["users"]] == [alice_uid, alice_uid]
    sandbox.advance_days(sandbox.config.rotation_days)
    rotated = post(sandbox, {"users": [{"email_sha256": alice}, {"email_sha256": bob}]}).json()
    assert rotated["users"][0]["uid"] == rotated["users"][1]["uid"] != alice_uid


def test_unreadable_known_uids_are_ignored(sandbox: ID5Sandbox) -> None:
    alice_uid, carol_uid = uids(sandbox, ["alice@example.com", "carol@example.com"])
    with ID5Sandbox(ID5SandboxConfig(seed=99)) as other:
        foreign = uids(other, ["alice@example.com"])[0]
    tampered = alice_uid[:-4] + ("AAAA" if not alice_uid.endswith("AAAA") else "BBBB")
    known = [{"uid": tampered}, {"uid": foreign}, {"uid": "ID5-123"}, {"uid": 17}, "junk", {}]
    user = {"email_sha256": sha("carol@example.com"), "known_uids": known}
    assert post(sandbox, {"users": [user]}).json()["users"][0]["uid"] == carol_uid
    assert uids(sandbox, ["carol@example.com"]) == [carol_uid]


def test_same_seed_gives_same_answers_across_instances() -> None:
    with ID5Sandbox(ID5SandboxConfig(seed=7)) as a, ID5Sandbox(ID5SandboxConfig(seed=7)) as b:
        assert uids(a, PEOPLE) == uids(b, PEOPLE)
        with ID5Sandbox(ID5SandboxConfig(seed=8)) as c:
            assert set(uids(c, PEOPLE)).isdisjoint(uids(a, PEOPLE))
        with ID5Sandbox(ID5SandboxConfig(seed=7, partner=42)) as d:
            other_partner = post(d, ONE_USER).json()["users"][0]["uid"]
            assert other_partner != post(a, ONE_USER).json()["users"][0]["uid"]


def test_faults_occur_at_the_given_rate_and_leave_answers_intact() -> None:
    config = ID5SandboxConfig(seed=11, fault_rate=0.3, slow_reply_seconds=0.01)
    with ID5Sandbox(config) as faulty, ID5Sandbox(ID5SandboxConfig(seed=11)) as clean:
        expected = uids(clean, PEOPLE[:5])
        outcomes: Counter[str] = Counter()
        for _ in range(400):
            try:
                response = post(faulty, {"users": [{"email_sha256": sha(e)} for e in PEOPLE[:5]]})
            except requests.ConnectionError:
                outcomes["drop"] += 1
                continue
            outcomes[str(response.status_code)] += 1
            if response.status_code == 200:
                assert [u["uid"] for u in response.json()["users"]] == expected
        stats = faulty.stats
    assert stats.requests == 400
    assert set(stats.faults) == {"429", "500", "503", "drop", "slow"}
    assert 0.22 < sum(stats.faults.values()) / 400 < 0.38
    for kind in ("429", "500", "503", "drop"):
        assert outcomes[kind] == stats.faults[kind]
    assert outcomes["200"] == 400 - sum(outcomes[k] for k in ("429", "500", "503", "drop"))


def test_logs_carry_method_path_status_but_no_token_or_body(
    sandbox: ID5Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="identity_pipeline.sandboxes.id5")
    email = sha("private@example.com")
    post(sandbox, {"users": [{"email_sha256": email}]})
    requests.get(f"{sandbox.base_url}/nowhere?token={TOKEN}", timeout=TIMEOUT)
    assert "POST /partners/v1/173/signals 200" in caplog.text
    assert "GET /nowhere 404" in caplog.text
    assert TOKEN not in caplog.text and email not in caplog.text


def test_cli_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--fault-rate", "2"])
    assert exited.value.code == 2


def test_cli_subprocess_listens_answers_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "identity_pipeline.sandboxes.id5", "--port", "0", "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        url = f"{match.group(1)}/partners/v1/173/signals"
        response = requests.post(url, params={"token": TOKEN}, json=ONE_USER, timeout=TIMEOUT)
        assert response.status_code == 200
        with ID5Sandbox(ID5SandboxConfig(seed=5)) as same_seed:
            assert (
                response.json()["users"][0]["uid"]
                == post(same_seed, ONE_USER).json()["users"][0]["uid"]
            )
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0
        assert "POST /partners/v1/173/signals 200" in stderr
        assert TOKEN not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
