"""OpenAPI 3.1 description of the service, served at /openapi.json."""

from __future__ import annotations

from typing import Any

_IDS = {
    name: {"type": ["string", "null"], "description": text}
    for name, text in (
        ("anonymous_id", "anonymous user ID (this or email is required)"),
        ("email", "email address (this or anonymous_id is required); stored raw only in the log"),
        ("phone", "phone number, E.164 or national (default region)"),
        ("fbclid", "Facebook click ID"),
        ("gclid", "Google click ID"),
        ("gaclid", "Google's other name for the click ID, read as gclid"),
    )
}

_ERROR = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["message", "code"],
            "properties": {"message": {"type": "string"}, "code": {"type": "string"}},
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_UUID = {"type": ["string", "null"], "format": "uuid"}


def _success(data_properties: dict[str, Any]) -> dict[str, Any]:
    """A 200 answer: {"success": true, "data": {...}} with these data properties."""
    return {
        "type": "object",
        "properties": {
            "success": {"const": True},
            "data": {"type": "object", "properties": data_properties},
        },
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "identity_pipeline identity service",
        "version": "1",
        "description": "Seed 003's Omni Identity API (deterministic identity resolution) over "
        "the identity graph this pipeline builds. Rate limit headers X-RateLimit-Limit, "
        "X-RateLimit-Remaining and X-RateLimit-Reset come with every answer.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "IdentifierRequest": {
                "type": "object",
                "required": ["platform"],
                "properties": {
                    "platform": {"type": "string"},
                    "count_prev_visits": {
                        "type": "boolean",
                        "description": "present: record the event and answer the person; "
                        "absent: answer the person's journal",
                    },
                    **_IDS,
                    "valuation_properties": {
                        "type": ["object", "null"],
                        "properties": {
                            "action": {"type": "string"},
                            "properties": {"type": ["object", "null"]},
                        },
                    },
                },
            },
            "Resolved": _success(
                {
                    "uuid": _UUID,
                    "email": {"type": "string", "description": "the request's own email, or ''"},
                    "count_prev_visits": {"type": "integer"},
                }
            ),
            "Journal": _success(
                {
                    "uuid": _UUID,
                    "journal": {
                        "type": "array",
                        "description": "newest first: each payload as sent plus created_at",
                        "items": {"type": "object"},
                    },
                }
            ),
            "Error": _ERROR,
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/identifier": {
            "post": {
                "summary": "Create or update an identifier, or retrieve its journal",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/IdentifierRequest"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "the person (with count_prev_visits) or its journal",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Resolved"},
                                        {"$ref": "#/components/schemas/Journal"},
                                    ]
                                }
                            }
                        },
                    },
                    "400": _error("invalid JSON, field type, missing identifier, body too large"),
                    "401": _error("missing or unknown bearer token"),
                    "403": _error("the token lacks the scope (write records, read journals)"),
                    "429": _error("rate limit exceeded"),
                    "500": _error("internal error (no details)"),
                },
            }
        }
    },
}
