"""Normalization must agree with the uid2-client SDK bit for bit."""

import random

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uid2_client.input_util import normalize_and_hash_email, normalize_and_hash_phone

from identity_pipeline.normalize.values import normalize_phone, normalize_table

# From the SDK's own tests (PROTOCOLS.md section 4).
EMAIL_VECTORS = [
    ("TEst.TEST@Test.com ", "test.test@test.com", "dvECjPKZHya0/SIhSGwP0m8SgTv1vzLxPULUOsm880M="),
    (
        "TEst.TEst+123@GMail.Com",
        "testtest@gmail.com",
        "LkLfFrut8Tc3h/fIvYDiBKSbaMiau/DtaLBPQYszdMw=",
    ),
    ("test+test@test.com", "test+test@test.com", "rQ4yzdOz4uG8N54326QyZD6/JwqrXn4lmy34cVCojB8="),
]
INVALID_EMAILS = ["", "@b.com", "a@", "+@gmail.com", ".+@gmail.com", "a@ba@z.com"]

# Characters that exercise every branch of the SDK's email state machine.
ALPHABET = list("aAzZgGmMiIlL.+@ ") + list("c0m1") + ["\t", "É", "é", "ß", "İ", "١", "\u00a0", "😀"]


def run_normalize(values: list[str | None], dii_type: str | None, region: str | None = None):
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE src AS SELECT v.value, v.n, CAST(? AS VARCHAR) AS dii_type, "
        "CAST(? AS VARCHAR) AS region FROM (SELECT unnest(?::VARCHAR[]) AS value, "
        "generate_subscripts(?::VARCHAR[], 1) AS n) AS v",
        [dii_type, region, values, values],
    )
    normalize_table(con, "src", "out", "US")
    rows = con.execute(
        "SELECT value, normalized, uid2_hash, id5_hash, error FROM out ORDER BY n"
    ).fetchall()
    con.close()
    return rows


def sdk_hash(value: str, dii_type: str) -> str | None:
    try:
        if dii_type == "email":
            return normalize_and_hash_email(value)
        return normalize_and_hash_phone(value)
    except ValueError:
        return None


def test_sdk_email_vectors():
    rows = run_normalize([v for v, _, _ in EMAIL_VECTORS], "email")
    for (_, normalized, uid2_hash), row in zip(EMAIL_VECTORS, rows, strict=True):
        assert row[1] == normalized
        assert row[2] == uid2_hash
        assert len(row[3]) == 64 and row[3] == row[3].lower()
        assert row[4] is None


def test_sdk_invalid_emails():
    rows = run_normalize(INVALID_EMAILS, "email")
    assert [r[4] for r in rows] == ["email_invalid"] * len(INVALID_EMAILS)
    assert all(r[2] is None for r in rows)


def random_strings(seed: int, count: int, max_len: int = 14) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, max_len))) for _ in range(count)]


def test_generated_emails_match_sdk_exactly():
    values = random_strings(seed=1, count=50_000)
    # realistic addresses written the messy ways a CRM holds them
    rng = random.Random(2)
    for _ in range(20_000):
        local = "".join(rng.choices("abcXYZ.+_-9", k=rng.randint(1, 10)))
        domain = rng.choice(["gmail.com", "GMail.Com", "yahoo.com", "gmail.com.", " gmail.com"])
        values.append(" " * rng.randint(0, 2) + local + "@" + domain + " " * rng.randint(0, 2))
    rows = run_normalize(values, "email")
    disagreements = [
        v for v, row in zip(values, rows, strict=True) if row[2] != sdk_hash(v, "email")
    ]
    print(f"email comparisons: {len(values)}, disagreements with SDK: {len(disagreements)}")
    assert disagreements == []
    assert sum(r[2] is not None for r in rows) > 10_000  # the comparison covered valid ones too


def test_generated_phones_match_sdk_on_everything_it_accepts():
    rng = random.Random(3)
    digits = "0123456789"
    values = ["+" + "".join(rng.choices(digits, k=rng.randint(7, 17))) for _ in range(20_000)]
    values += [
        "+" + "".join(rng.choices(digits + "١٢³ -()", k=rng.randint(8, 16))) for _ in range(20_000)
    ]
    rows = run_normalize(values, "phone")
    disagreements = [
        v
        for v, row in zip(values, rows, strict=True)
        if sdk_hash(v, "phone") is not None and row[2] != sdk_hash(v, "phone")
    ]
    accepted = sum(sdk_hash(v, "phone") is not None for v in values)
    print(
        f"phone comparisons: {len(values)} ({accepted} SDK-accepted), "
        f"disagreements: {len(disagreements)}"
    )
    assert disagreements == []
    assert accepted > 10_000
    # what we produce for anything else is always something the SDK accepts
    for row in rows:
        if row[1] is not None:
            assert sdk_hash(row[1], "phone") == row[2]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(ALPHABET), max_size=16), min_size=1, max_size=40))
def test_property_email_same_validity_and_hash_as_sdk(values: list[str]):
    rows = run_normalize(values, "email")
    assert [r[2] for r in rows] == [sdk_hash(v, "email") for v in values]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("+0123456789 ١²")), max_size=18),
        min_size=1,
        max_size=40,
    )
)
def test_property_phone_matches_sdk_when_sdk_accepts(values: list[str]):
    rows = run_normalize(values, "phone")
    for value, row in zip(values, rows, strict=True):
        expected = sdk_hash(value, "phone")
        if expected is not None:
            assert row[2] == expected


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("(415) 234-5678", "US", "+14152345678"),
        ("415.234.5678", "US", "+14152345678"),
        ("07911 123456", "GB", "+447911123456"),
        ("0044 7911 123456", "GB", "+447911123456"),
        ("0151 12345678", "DE", "+4915112345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+1 415 234 5678", "GB", "+14152345678"),  # an explicit + overrides the row's country
        ("+12345678901", None, "+12345678901"),  # SDK-accepted values pass through unchanged
    ],
)
def test_national_formats_become_e164(value: str, region: str | None, expected: str):
    assert normalize_phone(value, region) == (expected, None)


@pytest.mark.parametrize(
    ("value", "region", "reason"),
    [
        ("12345", "US", "phone_invalid"),
        ("n/a", "US", "phone_unparseable"),
        ("(415) 234-5678", "XX", "phone_country_unknown"),
        ("+683 4002", None, "phone_too_short_for_uid2"),  # valid Niue number, too short for UID2
        ("x" * 10_000_000, "US", "phone_unparseable"),
    ],
)
def test_unusable_phones_have_a_reason(value: str, region: str | None, reason: str):
    assert normalize_phone(value, region) == (None, reason)


def test_row_region_is_used_and_default_applies_when_blank():
    rows = run_normalize(["07911 123456", "(415) 234-5678"], "phone", region=" gb ")
    assert rows[0][1] == "+447911123456"
    assert rows[1][4] == "phone_invalid"
    rows = run_normalize(["(415) 234-5678"], "phone", region="")
    assert rows[0][1] == "+14152345678"


@pytest.mark.parametrize(
    ("region", "value", "expected"),
    [
        (" uk", "07911 123456", "+447911123456"),
        ("EL", "210 323 4567", "+302103234567"),
    ],
)
def test_common_non_iso_country_codes_are_read_as_iso(region: str, value: str, expected: str):
    assert run_normalize([value], "phone", region=region)[0][1] == expected
    assert normalize_phone(value, region.strip()) == (
        None,
        "phone_country_unknown",
    )  # phonenumbers alone knows neither
