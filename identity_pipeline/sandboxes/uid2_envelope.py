"""What crosses the wire to the UID2 operator: the AES-256-GCM envelope and the request contract.

Kept apart from the operator model so the crypto and the acceptance rules (shape, limits, which
identifiers are valid) can be read and checked on their own against PROTOCOLS §1-4 and the SDK's
`create_envelope` / `parse_response`. Everything here is stateless.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from dataclasses import dataclass

from Crypto.Cipher import AES
from uid2_client.input_util import is_phone_number_normalized, normalize_email_string

ENVELOPE_VERSION = 1
IV_BYTES = 12
TAG_BYTES = 16
TIMESTAMP_BYTES = 8
NONCE_BYTES = 8
MAX_REQUEST_AGE_MS = 60_000
"""The operator refuses requests stamped more than 60 s ago, measured on real (wall) time."""
MAX_IDENTIFIERS = 5_000
MAX_BODY_BYTES = 1 << 20
IDENTITY_KEYS = ("email", "email_hash", "phone", "phone_hash")
EMAIL, PHONE = 0, 1
"""Identity type codes, as in the raw UID2 metadata byte."""

_MIN_REQUEST_BYTES = 1 + IV_BYTES + TIMESTAMP_BYTES + NONCE_BYTES + TAG_BYTES


class ClientError(ValueError):
    """A request the operator refuses with HTTP 400 `client_error`; the message says why."""


@dataclass(frozen=True)
class OpenedRequest:
    """A decrypted request: the JSON bytes plus what the response must echo."""

    timestamp_ms: int
    nonce: bytes
    payload: bytes
    binary: bool
    """True if the client sent raw bytes (answer in bytes), False for base64 text."""


def decode_secret(secret_b64: str) -> bytes:
    """The client secret is given base64-encoded and must be a 32-byte AES-256 key."""
    try:
        key = base64.b64decode(secret_b64, validate=True)
    except binascii.Error as exc:
        raise ValueError("the UID2 secret must be base64") from exc
    if len(key) != 32:
        raise ValueError("the UID2 secret must decode to 32 bytes")
    return key


def _wire_bytes(body: bytes, content_type: str | None) -> tuple[bytes, bool]:
    """Return (envelope bytes, was_binary); the SDK sends binary for v3 and base64 for v2."""
    if content_type and "octet-stream" in content_type.lower():
        return body, True
    try:
        decoded = base64.b64decode(b"".join(body.split()), validate=True)
    except binascii.Error:
        return body, True
    if decoded[:1] == bytes([ENVELOPE_VERSION]):
        return decoded, False
    return body, True


def open_request(
    key: bytes, body: bytes, content_type: str | None, now_ms: int | None = None
) -> OpenedRequest:
    """Decrypt a request envelope and check its version and freshness."""
    envelope, binary = _wire_bytes(body, content_type)
    if len(envelope) < _MIN_REQUEST_BYTES:
        raise ClientError("request body is too short to be an encrypted envelope")
    if envelope[0] != ENVELOPE_VERSION:
        raise ClientError("unsupported envelope version")
    iv = envelope[1 : 1 + IV_BYTES]
    ciphertext, tag = envelope[1 + IV_BYTES : -TAG_BYTES], envelope[-TAG_BYTES:]
    try:
        plain = AES.new(key, AES.MODE_GCM, nonce=iv).decrypt_and_verify(ciphertext, tag)
    except ValueError as exc:
        raise ClientError("request could not be decrypted with the client secret") from exc
    timestamp_ms = int.from_bytes(plain[:TIMESTAMP_BYTES], "big")
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if now - timestamp_ms > MAX_REQUEST_AGE_MS:
        raise ClientError("request timestamp is too old")
    nonce = plain[TIMESTAMP_BYTES : TIMESTAMP_BYTES + NONCE_BYTES]
    return OpenedRequest(timestamp_ms, nonce, plain[TIMESTAMP_BYTES + NONCE_BYTES :], binary)


def seal_response(
    key: bytes, nonce: bytes, payload: bytes, binary: bool, now_ms: int | None = None
) -> bytes:
    """Encrypt a response: IV ‖ ciphertext ‖ tag over (timestamp ‖ request nonce ‖ JSON)."""
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    plain = now.to_bytes(TIMESTAMP_BYTES, "big") + nonce + payload
    iv = os.urandom(IV_BYTES)
    ciphertext, tag = AES.new(key, AES.MODE_GCM, nonce=iv).encrypt_and_digest(plain)
    sealed = iv + ciphertext + tag
    return sealed if binary else base64.b64encode(sealed)


def parse_json(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except ValueError as exc:  # includes UTF-8 decoding errors
        raise ClientError("Incorrect request format: body is not JSON") from exc


def identity_arrays(payload: object) -> dict[str, list[str]]:
    """The identity arrays of a map request, checked for shape and the 5,000-identifier limit.

    Unknown keys are ignored like the operator does, but at least one known array must be there.
    """
    if not isinstance(payload, dict):
        raise ClientError("Incorrect request format")
    arrays: dict[str, list[str]] = {}
    for key in IDENTITY_KEYS:
        values = payload.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ClientError(f"Incorrect request format: {key} must be an array of strings")
        arrays[key] = values
    if not arrays:
        raise ClientError("Required parameter missing: one of " + ", ".join(IDENTITY_KEYS))
    if sum(len(v) for v in arrays.values()) > MAX_IDENTIFIERS:
        raise ClientError(f"Too many identifiers: at most {MAX_IDENTIFIERS} per request")
    return arrays


def identity_digest(key: str, value: str) -> tuple[bytes, int] | None:
    """SHA-256 of the normalized identity and its type code, or None if it is not valid.

    Raw emails and phones are normalized by the SDK's own rules, so a raw value and its
    client-side hash map to the same UID2.
    """
    identity_type = EMAIL if key.startswith("email") else PHONE
    if key == "email":
        normalized: str | None = normalize_email_string(value)
        return None if normalized is None else (hashlib.sha256(normalized.encode()).digest(), EMAIL)
    if key == "phone":
        valid: bool = is_phone_number_normalized(value)
        return (hashlib.sha256(value.encode()).digest(), PHONE) if valid else None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return (digest, identity_type) if len(digest) == 32 else None
