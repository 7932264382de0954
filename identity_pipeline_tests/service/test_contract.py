"""Seed 003's contract through a real `identity-pipeline serve` process on 127.0.0.1: every
example request body of the guide, auth and scopes, rate limits, and each 400 case."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from identity_pipeline_tests.service.service_process import Service, running

# Seed 003's curl examples, verbatim.
FULL_EXAMPLE = """{
"platform": "omniIdentityLoggingKey",
"count_prev_visits": true,
"anonymous_id": "anonUser1234567",
"email": "user@example.com",
"phone": "+1234567890",
"fbclid": "IwAR2Kr8vH1J2P9g9L5X8T_7qg_zq26-hLdg3lz-BVcqZdbMzYb60ZMEqF-Vk",
"gaclid": "EAIaIQobChMIg7n5p7W",
"valuation_properties": {
"action": "purchase",
"properties": {
"value": 99.99,
"currency": "USD",
"transaction_id": "12345ABC"
}
}
}"""

JOURNAL_EXAMPLE = """{
"platform": "omni-cdi-activation-gtmss",
"anonymous_id": "anonUser1234567",
"valuation_properties": {
"action": "omniIdentityLoggingKey_TAG_NAME_1.0_pageview",
"properties": {
"page_url": "https://example.com/products",
"referrer": "https://google.com"
}
}
}"""

# The JavaScript and Python examples, as JSON.stringify / requests would send them.
RESOLVE_IDENTITY = {
    "platform": "web",
    "anonymous_id": "user123",
    "email": "jane.doe@gmail.com",
    "count_prev_visits": True,
}
TRACK_EVENT = {
    "platform": "web",
    "anonymous_id": "user123",
    "valuation_properties": {
        "action": "page_view",
        "properties": {"page_url": "https://shop.example/p/1", "referrer": ""},
    },
}
SEGMENT = {
    "platform": "segment",
    "anonymous_id": "seg-anon-1",
    "email": "sam@corp.io",
    "count_prev_visits": True,
    "valuation_properties": {
        "action": "Product Viewed",
        "properties": {"product_id": "P123", "product_name": "Running Shoes"},
    },
}
DAGSTER_JOURNAL = {"platform": "dagster-analytics", "anonymous_id": "user123"}
PERSONALIZATION = {"platform": "personalization", "anonymous_id": "user123"}

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running(tmp_path_factory.mktemp("service")) as started:
        yield started


def ok(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[header].isdigit()
    return body["data"]


def failed(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert set(body["error"]) == {"message", "code"}
    assert response.headers["X-RateLimit-Limit"].isdigit()
    return body["error"]["message"]


def test_seed_examples_sent_verbatim_get_the_documented_answers(service: Service) -> None:
    created = ok(service.post(FULL_EXAMPLE))
    assert set(created) == {"uuid", "email", "count_prev_visits"}
    assert UUID.match(created["uuid"]) and created["count_prev_visits"] == 1
    assert created["email"] == "user@example.com"  # its own, never another's

    journal = ok(service.post(JOURNAL_EXAMPLE))
    assert set(journal) == {"uuid", "journal"} and journal["uuid"] == created["uuid"]
    # newest first: the journal request's own event (it carries valuation_properties)
    newest, older = journal["journal"]
    sent = json.loads(JOURNAL_EXAMPLE)
    assert {k: v for k, v in newest.items() if k != "created_at"} == sent
    assert {k: v for k, v in older.items() if k != "created_at"} == json.loads(FULL_EXAMPLE)
    assert newest["created_at"] > older["created_at"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", newest["created_at"])

    resolved = ok(service.post(RESOLVE_IDENTITY))
    assert UUID.match(resolved["uuid"]) and resolved["email"] == "jane.doe@gmail.com"
    tracked = ok(service.post(TRACK_EVENT))  # no count_prev_visits: a journal answer
    assert tracked["uuid"] == resolved["uuid"]
    assert [e["valuation_properties"]["action"] for e in tracked["journal"][:1]] == ["page_view"]
    segment = ok(service.post(SEGMENT))
    assert set(segment) == {"uuid", "email", "count_prev_visits"}
    for body in (DAGSTER_JOURNAL, PERSONALIZATION):
        data = ok(service.post(body, token="reader-token"))
        assert data["uuid"] == resolved["uuid"] and len(data["journal"]) == 2
        payloads = [{k: v for k, v in e.items() if k != "created_at"} for e in data["journal"]]
        assert payloads == [TRACK_EVENT, RESOLVE_IDENTITY]
    # the Dagster example's segment_update names the person by its uuid as anonymous_id
    update = {
        "platform": "dagster-analytics",
        "anonymous_id": resolved["uuid"],
        "count_prev_visits": True,
        "valuation_properties": {
            "action": "segment_update",
            "properties": {"segment": "high_value_predicted", "predicted_value": "1000+"},
        },
    }
    assert ok(service.post(update))["uuid"] == resolved["uuid"]  # attached to that person
    by_uuid = ok(service.post({"platform": "dagster-analytics", "anonymous_id": resolved["uuid"]}))
    assert by_uuid["uuid"] == resolved["uuid"]
    assert [
        e["valuation_properties"]["action"]
        for e in by_uuid["journal"]
        if "valuation_properties" in e
    ] == ["segment_update", "page_view"]
    assert len(by_uuid["journal"]) == 3


def test_the_answer_never_reveals_an_email_the_request_did_not_carry(service: Service) -> None:
    ok(
        service.post(
            {
                "platform": "web",
                "anonymous_id": "dev-9",
                "email": "kim@corp.io",
                "count_prev_visits": True,
            }
        )
    )
    again = ok(
        service.post({"platform": "web", "anonymous_id": "dev-9", "count_prev_visits": True})
    )
    assert again["email"] == ""
    assert "kim@corp.io" not in (service.root / "service.log").read_text()


def test_tokens_and_scopes(service: Service) -> None:
    create = {"platform": "web", "anonymous_id": "scoped", "count_prev_visits": True}
    failed(service.post(create, token=None), 401, "UNAUTHORIZED")
    failed(service.post(create, token="not-a-token"), 401, "UNAUTHORIZED")
    response = requests.post(
        f"{service.url}/api/v1/identifier",
        json=create,
        headers={"Authorization": "Basic writer-token"},
        timeout=10,
    )
    failed(response, 401, "UNAUTHORIZED")
    failed(service.post(create, token="reader-token"), 403, "FORBIDDEN")
    failed(service.post(JOURNAL_EXAMPLE, token="reader-token"), 403, "FORBIDDEN")
    failed(service.post(DAGSTER_JOURNAL, token="only-writer"), 403, "FORBIDDEN")
    assert ok(service.post(create, token="only-writer"))["uuid"]
    assert ok(service.post({"platform": "web", "anonymous_id": "scoped"}, token="reader-token"))[
        "journal"
    ]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("{not json", "INVALID_JSON", None),
        ("[1, 2]", "INVALID_JSON", None),
        ('{"platform": "web", "count_prev_visits": true}', "MISSING_IDENTIFIER", None),
        ('{"platform": "web", "anonymous_id": "  ", "email": null}', "MISSING_IDENTIFIER", None),
        ('{"anonymous_id": "a"}', "MISSING_FIELD", "platform"),
        ('{"platform": "web", "email": 5}', "INVALID_FIELD", "email"),
        ('{"platform": "web", "anonymous_id": ["a"]}', "INVALID_FIELD", "anonymous_id"),
        (
            '{"platform": "web", "anonymous_id": "a", "count_prev_visits": "yes"}',
            "INVALID_FIELD",
            "count_prev_visits",
        ),
        (
            '{"platform": "web", "anonymous_id": "a", "valuation_properties": []}',
            "INVALID_FIELD",
            "valuation_properties",
        ),
        (
            '{"platform": "web", "anonymous_id": "a", "valuation_properties": {"action": 3}}',
            "INVALID_FIELD",
            "valuation_properties.action",
        ),
        ('{"platform": "web", "email": "x@corp.io", "phone": 12345}', "INVALID_FIELD", "phone"),
    ],
)
def test_bad_requests_are_400_naming_the_field_not_the_value(
    service: Service, body: str, code: str, field: str | None
) -> None:
    message = failed(service.post(body), 400, code)
    if field:
        assert f"'{field}'" in message
    assert "x@corp.io" not in message and "12345" not in message


def test_an_oversized_body_is_400(service: Service) -> None:
    big = {
        "platform": "web",
        "anonymous_id": "big",
        "count_prev_visits": True,
        "valuation_properties": {"action": "x", "properties": {"blob": "y" * 70_000}},
    }
    failed(service.post(big), 400, "BODY_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on the stream too
        yield b'{"platform": "web", "anonymous_id": "big", "pad": "'
        for _ in range(100):
            yield b"z" * 1000
        yield b'"}'

    failed(service.post(chunks()), 400, "BODY_TOO_LARGE")


def test_unknown_paths_and_internal_errors_keep_the_error_shape(service: Service) -> None:
    response = requests.get(f"{service.url}/api/v1/nothing", timeout=10)
    assert response.status_code == 404 and response.json()["success"] is False
    response = requests.get(f"{service.url}/api/v1/identifier", timeout=10)
    assert response.status_code == 405 and response.json()["error"]["code"]


def test_openapi_is_served(service: Service) -> None:
    spec = requests.get(f"{service.url}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/identifier"]["post"]
    assert {"200", "400", "401", "403", "429", "500"} <= set(post["responses"])


def test_rate_limit_per_token(tmp_path: Path) -> None:
    with running(
        tmp_path, IDENTITY_SERVICE_RATE_LIMIT="5", IDENTITY_SERVICE_RATE_WINDOW_SECONDS="3600"
    ) as service:
        body = {"platform": "web", "anonymous_id": f"rl-{uuid.uuid4()}"}
        remaining = []
        for _ in range(5):
            response = service.post(body, token="reader-token")
            assert response.status_code == 200
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = service.post(body, token="reader-token")
        failed(limited, 429, "RATE_LIMITED")
        assert limited.headers["X-RateLimit-Limit"] == "5"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert int(limited.headers["X-RateLimit-Reset"]) % 3600 == 0
        # another token has its own budget
        assert service.post(body, token="writer-token").status_code == 200
