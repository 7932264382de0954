"""ID5Client against the sandbox: seed 004's cases, clear refusals, bounded retries, no token."""

import hashlib
import logging

import pytest

from identity_pipeline.id5.client import ID5Client, answer_table, build_users
from identity_pipeline.mapping.retry import CallStats, FatalAPIError, RetriesExhaustedError
from identity_pipeline_tests.id5.conftest import client_for


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


GOOD = [sha(f"person{i}@example.com") for i in range(4)]
SEED_SHORT = "150e219c0f8f3ad73f21a78c9376b15cb9ae96e36959f5406ed836f517f746s"  # seed 004


def test_seed_example_users_map_and_known_uids_keep_the_person(id5_sandbox) -> None:
    """Seed 004's example request (real hashes for its placeholders) through signals()."""
    client = client_for(id5_sandbox())
    first = client.signals([{"email_sha256": GOOD[0]}], stats=CallStats())
    uid = first[0]["uid"]
    users = [
        {"email_sha256": GOOD[0]},
        {"country_alpha2": "NL", "email_sha256": GOOD[1]},
        # GOOD[2] says it is the person behind `uid`: ID5 unifies it into that lineage.
        {"known_uids": [{"uid": uid}], "country_alpha2": "AA", "email_sha256": GOOD[2]},
        {
            "known_uids": [{"uid": "ID5-ABC"}],
            "partner_user_id": "0x112233",
            "email_sha256": GOOD[3],
        },
    ]
    answers = client.signals(users, stats=CallStats())
    assert [a["country_alpha2"] for a in answers] == ["AA", "NL", "AA", "AA"]
    assert answers[0]["uid"] == uid == answers[2]["uid"]
    assert answers[1]["uid"] != uid and answers[3]["uid"] != uid
    assert answers[3]["partner_user_id"] == "0x112233"


def test_per_user_errors_come_back_beside_good_users(id5_sandbox) -> None:
    client = client_for(id5_sandbox())
    table = client.map_emails(
        [11, 12, 13, 14],
        [GOOD[0], SEED_SHORT, GOOD[1], GOOD[2]],
        [None, None, None, None],
        [None, "NL", "A", "de"],
        stats=CallStats(),
    )
    rows = table.to_pylist()
    assert [r["dii_id"] for r in rows] == [11, 12, 13, 14]
    assert [r["error_code"] for r in rows] == [
        None,
        "sha256_length_invalid",
        "country_alpha2_invalid",
        None,
    ]
    assert rows[0]["uid"].startswith("ID5*") and rows[3]["uid"].startswith("ID5*")
    assert rows[1]["uid"] is None and rows[2]["uid"] is None
    assert [r["country_alpha2"] for r in rows] == ["AA", "NL", "A", "de"]


def test_all_users_invalid_is_an_answer_not_a_failure(id5_sandbox) -> None:
    """Seed 004's error response: HTTP 400 user_objects_invalid with every user's error."""
    sandbox = id5_sandbox()
    stats = CallStats()
    table = client_for(sandbox).map_emails(
        [1, 2], [GOOD[0], SEED_SHORT], [None, None], ["A", "NL"], stats=stats
    )
    assert table.column("error_code").to_pylist() == [
        "country_alpha2_invalid",
        "sha256_length_invalid",
    ]
    assert table.column("uid").null_count == 2
    assert stats.requests == 1 and stats.retries == 0
    assert sandbox.stats.users_received == 2  # counted before the answer was sent


@pytest.mark.parametrize(
    ("overrides", "status", "says"),
    [
        ({"token": ""}, "HTTP 401 api_token_invalid", "ID5_TOKEN"),
        ({"token": "wrong-token-5f3a9"}, "HTTP 403 api_token_not_authorized", "ID5_PARTNER_ID"),
        ({"partner_id": 999}, "HTTP 400 partner_id_invalid", "ID5_PARTNER_ID"),
    ],
    ids=["no-token", "wrong-token", "unknown-partner"],
)
def test_refusals_fail_at_once_with_a_clear_message_and_no_token(
    id5_sandbox,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, object],
    status: str,
    says: str,
) -> None:
    sandbox = id5_sandbox()
    client = client_for(sandbox, **overrides)
    stats = CallStats()
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalAPIError) as error:
        client.map_emails([1], [GOOD[0]], [None], [None], stats=stats)
    message = str(error.value)
    assert status in message and says in message
    assert stats.requests == 1 and stats.retries == 0
    for secret in (client.token, sandbox.config.token):
        if secret:
            assert secret not in message + caplog.text
    assert error.value.__context__ is None or error.value.__suppress_context__


def test_token_is_redacted_from_urllib3_debug_lines(
    id5_sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = id5_sandbox(token="tok-only-in-url-81d2")
    client = client_for(sandbox)
    with caplog.at_level(logging.DEBUG):
        client.map_emails([1], [GOOD[0]], [None], [None], stats=CallStats())
    assert "token=<redacted>" in caplog.text  # urllib3 did log the URL ...
    assert "tok-only-in-url-81d2" not in caplog.text  # ... without the token
    assert GOOD[0] not in caplog.text


def test_retries_stop_when_the_budget_is_spent_without_naming_the_token(id5_sandbox) -> None:
    sandbox = id5_sandbox(fault_rate=1.0, slow_reply_seconds=0.5, token="tok-in-retries-77")
    client = client_for(sandbox, max_retry_seconds=0.6, read_timeout_seconds=0.2)
    stats = CallStats()
    with pytest.raises(RetriesExhaustedError) as error:
        client.map_emails(
            [1, 2, 3], GOOD[:3], [None] * 3, [None] * 3, stats=stats, what="ID5 batch 3/9 (3 users)"
        )
    message = str(error.value)
    assert message.startswith("ID5 batch 3/9 (3 users): gave up after")
    assert "last error:" in message
    assert stats.retries >= 1 and stats.requests == stats.retries + 1
    assert "tok-in-retries-77" not in message + repr(dict(stats.retry_reasons))
    assert error.value.__cause__ is None


def test_a_malformed_base_url_fails_at_once(caplog: pytest.LogCaptureFixture) -> None:
    client = ID5Client(base_url="127.0.0.1:9", partner_id=173, token="tok-bad-url-41")
    stats = CallStats()
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalAPIError, match="ID5_BASE_URL") as e:
        client.map_emails([1], [GOOD[0]], [None], [None], stats=stats)
    assert stats.retries == 0
    assert "tok-bad-url-41" not in str(e.value) + caplog.text


def test_requests_reuse_one_connection(id5_sandbox) -> None:
    client = client_for(id5_sandbox())
    for _ in range(5):
        client.map_emails([1], [GOOD[0]], [None], [None], stats=CallStats())
    pools = client._session().get_adapter("http://").poolmanager.pools
    assert len(pools) == 1
    assert pools[next(iter(pools.keys()))].num_connections == 1


def test_settings_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ID5Client(base_url="http://127.0.0.1:9", partner_id=173, token="t")
    monkeypatch.delenv("ID5_REFRESH_DAYS", raising=False)
    assert client.refresh_interval_days == 7
    monkeypatch.setenv("ID5_REFRESH_DAYS", "3")
    assert client.refresh_interval_days == 3
    assert (
        ID5Client(base_url="x", partner_id=1, token="t", refresh_days=2).refresh_interval_days == 2
    )
    for bad in ("0", "weekly"):
        monkeypatch.setenv("ID5_REFRESH_DAYS", bad)
        with pytest.raises(ValueError, match="ID5_REFRESH_DAYS"):
            _ = client.refresh_interval_days
    with pytest.raises(ValueError, match="1000"):
        _ = ID5Client(base_url="x", partner_id=1, token="t", batch_size=1_001).effective_batch_size
    with pytest.raises(ValueError, match="1 to 1000"):
        client.signals([{"email_sha256": GOOD[0]}] * 1_001, stats=CallStats())


def test_request_users_carry_only_what_is_known() -> None:
    users = build_users([7, 8], [GOOD[0], GOOD[1]], ["ID5*old", None], [None, "NL"])
    assert users == [
        {"email_sha256": GOOD[0], "partner_user_id": "7", "known_uids": [{"uid": "ID5*old"}]},
        {"email_sha256": GOOD[1], "partner_user_id": "8", "country_alpha2": "NL"},
    ]


def test_answers_are_matched_by_partner_user_id_in_any_order() -> None:
    answers = [
        {"uid": "ID5*b", "email_sha256": GOOD[1], "country_alpha2": "AA", "partner_user_id": "8"},
        {"uid": "ID5*a", "email_sha256": GOOD[0], "country_alpha2": "FR", "partner_user_id": "7"},
    ]
    table = answer_table([7, 8], GOOD[:2], answers, "unit")
    assert table.column("uid").to_pylist() == ["ID5*a", "ID5*b"]
    assert table.column("country_alpha2").to_pylist() == ["FR", "AA"]
    # Without the echo, answers must line up by position and hash.
    bare = [{k: v for k, v in a.items() if k != "partner_user_id"} for a in reversed(answers)]
    assert answer_table([7, 8], GOOD[:2], bare, "unit").column("uid").to_pylist() == [
        "ID5*a",
        "ID5*b",
    ]
    with pytest.raises(FatalAPIError, match="does not match"):
        answer_table([7, 8], GOOD[:2], bare[::-1], "unit")
    with pytest.raises(FatalAPIError, match="partner_user_id"):
        answer_table([7, 8], GOOD[:2], [answers[0], answers[0]], "unit")
