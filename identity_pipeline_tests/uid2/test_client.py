"""UID2Client against the sandbox: clear failures, bounded retries, settings, no secrets out."""

import base64
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from identity_pipeline.mapping.retry import (
    CallStats,
    FatalAPIError,
    RetriesExhaustedError,
    RetryableAPIError,
    RetryPolicy,
    call_with_retries,
)
from identity_pipeline.uid2.client import UID2Client
from identity_pipeline_tests.uid2.conftest import client_for

HASHES = [f"{i:043d}=" for i in range(3)]  # well-formed base64 of 32 bytes


def test_answers_come_back_in_request_order(uid2_sandbox) -> None:
    sandbox = uid2_sandbox()
    emails = [
        base64.b64encode(hashlib.sha256(f"e{i}".encode()).digest()).decode() for i in range(5)
    ]
    phones = [
        base64.b64encode(hashlib.sha256(f"p{i}".encode()).digest()).decode() for i in range(3)
    ]
    sandbox.add_optouts([emails[2]])
    answer = client_for(sandbox).map_v3(emails, phones, stats=CallStats())
    rows = answer.to_pylist()
    assert [(r["dii_type"], r["pos"]) for r in rows] == [("email", i) for i in range(5)] + [
        ("phone", i) for i in range(3)
    ]
    assert rows[2]["u"] is None and rows[2]["e"] == "optout"
    assert all(len(r["u"]) == 44 and r["r"] > 0 for i, r in enumerate(rows) if i != 2)


def test_wrong_api_key_fails_at_once_with_a_clear_message(uid2_sandbox, caplog) -> None:
    sandbox = uid2_sandbox()
    client = client_for(sandbox, api_key="wrong-key-123")
    stats = CallStats()
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalAPIError) as error:
        client.map_v3(HASHES, [], stats=stats)
    assert "HTTP 401" in str(error.value) and "UID2_API_KEY" in str(error.value)
    assert "wrong-key-123" not in str(error.value) + caplog.text
    assert stats.requests == 1 and stats.retries == 0


def test_rejected_request_names_the_operator_message(uid2_sandbox) -> None:
    client = client_for(uid2_sandbox())
    with pytest.raises(FatalAPIError, match=r"HTTP 400.*client_error"):
        client._post("/v3/identity/map", b'{"email_hash": "not a list"}')


def test_retries_stop_when_the_budget_is_spent(uid2_sandbox) -> None:
    sandbox = uid2_sandbox(fault_rate=1.0)
    client = client_for(sandbox, max_retry_seconds=0.5, read_timeout_seconds=0.3)
    stats = CallStats()
    with pytest.raises(RetriesExhaustedError) as error:
        client.map_v3(HASHES, [], stats=stats, what="UID2 batch 3/9 (3 identities)")
    message = str(error.value)
    assert message.startswith("UID2 batch 3/9 (3 identities): gave up after")
    assert "last error:" in message
    assert stats.retries >= 1 and stats.requests == stats.retries + 1
    assert client.secret_key not in message


def test_settings_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    client = UID2Client(base_url="http://127.0.0.1:9", api_key="k", secret_key="c2VjcmV0")
    monkeypatch.setenv("UID2_API_VERSION", "v4")
    with pytest.raises(ValueError, match="UID2_API_VERSION"):
        _ = client.version
    monkeypatch.setenv("UID2_API_VERSION", "V2")
    assert client.version == "v2"
    monkeypatch.setenv("UID2_MAX_PARALLEL_REQUESTS", "21")
    with pytest.raises(ValueError, match="between 1 and 20"):
        _ = client.parallel_requests
    monkeypatch.delenv("UID2_MAX_PARALLEL_REQUESTS")
    assert client.parallel_requests == 1
    with pytest.raises(FatalAPIError, match="32 bytes"):
        client._secret()
    with pytest.raises(ValueError, match="5000"):
        client.map_v3(["x"] * 5_001, [], stats=CallStats())


def test_parallel_requests_stay_within_the_limit(uid2_sandbox) -> None:
    sandbox = uid2_sandbox(latency_ms=100)
    client = client_for(sandbox, max_parallel_requests=3)

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: client.map_v3(HASHES, [], stats=CallStats()), range(6)))
    assert sandbox.stats.max_concurrent <= 3


def test_call_with_retries_counts_and_reports_each_retry() -> None:
    """Unit test of the retry loop alone, with a stand-in call that fails twice."""
    outcomes: list[Exception | str] = [RetryableAPIError("HTTP 503"), RetryableAPIError("timeout")]
    outcomes.append("ok")
    seen: list[tuple[str, int]] = []

    def flaky() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    stats = CallStats()
    result = call_with_retries(
        flaky,
        policy=RetryPolicy(initial_wait_seconds=0.001, max_wait_seconds=0.002),
        stats=stats,
        what="unit",
        on_retry=lambda reason, attempt, _: seen.append((reason, attempt)),
    )
    assert result == "ok"
    assert seen == [("HTTP 503", 1), ("timeout", 2)]
    assert stats.requests == 3 and stats.retries == 2
    assert stats.retry_reasons == {"HTTP 503": 1, "timeout": 1}
