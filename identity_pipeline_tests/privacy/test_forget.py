"""Forgetting a person removes every trace in every table, keeps an audit row without the
value, deny-lists every identifier of the person and leaves other persons untouched."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from uid2_client import normalize_and_hash_email, normalize_and_hash_phone

from identity_pipeline.cli import main
from identity_pipeline.privacy.forget import FORGET_TABLES
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.privacy.conftest import (
    ANN_EMAIL,
    ANN_PHONE,
    BOB_EVENTS,
    build_world,
    insert_events,
    stitch_new,
)

CALL_CENTRE = "+12125550111"

TABLES = (
    "raw_events",
    "identity_events",
    "person_journal",
    "identity_graph",
    "identity_identifiers",
    "identity_links",
    "identity_hubs",
    "identity_persons",
    "persons",
    "person_merges",
    "customer_metrics",
    "customer_spend_by_currency",
    "customer_value",
    "customer_segments",
)


def b64_sha256(value: str) -> str:
    return base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()


def snapshot(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def rows_naming(rows: list[tuple], needles: set[str]) -> list[tuple]:
    return [r for r in rows if any(str(v) in needles for v in r)]


def forget(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["forget", *args]) == 0
    out = capsys.readouterr()
    return out.out + out.err


def test_forget_by_email_removes_every_trace_and_deny_lists_the_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "identity.duckdb"
    ids = build_world(database)
    before = snapshot(database)
    ann = {ids["ann"], ids["ann_retired"]}
    bob_keys = {ids["bob"], *BOB_EVENTS}
    assert rows_naming(before["person_merges"], ann)  # the merge to forget is there
    bob_before = {t: rows_naming(rows, bob_keys) for t, rows in before.items()}

    # Any spelling of the email finds her; output has counts only.
    printed = forget(capsys, "--email", " ANN.LEE@mailbox.org ", "--database", str(database))
    assert "ann" not in printed.lower()
    assert normalize_and_hash_email(ANN_EMAIL) not in printed
    assert "persons found: 1" in printed

    after = snapshot(database)
    email_hash = normalize_and_hash_email(ANN_EMAIL)
    phone_hash = normalize_and_hash_phone(ANN_PHONE)
    ann_values = {
        *ann,
        "a1", "a2", "a3", "a4", "a5",
        "ann-laptop", "ann-phone", "G-ANN", email_hash, phone_hash,
    }  # fmt: skip
    qa_hash = normalize_and_hash_email("test@test.com")
    for table, rows in after.items():
        assert not rows_naming(rows, ann_values), f"{table} still holds Ann"
        bob_now = [r for r in rows_naming(rows, bob_keys) if qa_hash not in r]
        bob_then = [r for r in bob_before[table] if qa_hash not in r]
        assert bob_now == bob_then, f"{table}: Bob changed"
    assert {r[0] for r in after["raw_events"]} == BOB_EVENTS
    assert {r[0] for r in after["identity_events"]} == BOB_EVENTS
    assert {r[0] for r in after["identity_persons"]} == {ids["bob"]}
    assert after["person_merges"] == []
    # The QA email seen on Ann's phone and Bob's device is a hub, not Ann's: it stays, and
    # now names Bob's event as its first, as a rebuild without Ann's events would.
    assert [r[1] for r in after["identity_hubs"]] == ["email"]
    (qa,) = [r for r in after["identity_identifiers"] if r[2] == qa_hash]
    assert qa[4] == "b3"
    assert len(after["identity_links"]) == 2  # Bob's device with his email and the QA email

    with connect(database) as con:
        deny = set(con.execute("SELECT id_type, id_hash FROM forgotten_identifiers").fetchall())
        audit = con.execute("SELECT * FROM forget_requests").fetchall()
        columns = [d[0] for d in con.description]  # type: ignore[union-attr]
    assert deny == {
        ("email", email_hash),
        ("phone", phone_hash),
        ("anonymous_id", b64_sha256("ann-laptop")),
        ("anonymous_id", b64_sha256("ann-phone")),
        ("gclid", b64_sha256("G-ANN")),
    }
    (row,) = audit
    record = dict(zip(columns, row, strict=True))
    text = repr(record).lower()
    for value in (
        "ann",
        email_hash.lower(),
        hashlib.sha256(ANN_EMAIL.lower().encode()).hexdigest(),
    ):
        assert value not in text
    assert record["source"] == "cli" and record["id_types"] == ["email"]
    assert record["persons_found"] == 1 and record["identifiers_forgotten"] == 5
    (fingerprint,) = record["fingerprints"]
    assert fingerprint != hashlib.sha256(f"email:{email_hash}".encode()).hexdigest()
    deleted = json.loads(record["rows_deleted"])
    assert set(FORGET_TABLES) < set(deleted)  # every table read is listed, 0 or not
    assert {table: rows for table, rows in deleted.items() if rows} == {
        "customer_metrics": 1,
        "customer_segments": 1,
        "customer_spend_by_currency": 1,  # Ann's one purchase, in USD
        "customer_value": 1,
        "identity_events": 5,
        "identity_graph": 5,
        "identity_identifiers": 5,
        "identity_links": len(before["identity_links"]) - 2,
        "identity_persons": 1,
        "person_journal": len(before["person_journal"]) - len(bob_before["person_journal"]),
        "person_merges": 1,
        "persons": 1,
        "raw_events": 5,
    }

    # Forgetting again finds nobody and adds nothing to the deny-list.
    printed = forget(capsys, "--email", ANN_EMAIL, "--database", str(database))
    assert "persons found: 0" in printed and "deny-list: 0" in printed
    assert snapshot(database) == after


def test_forget_by_device_finds_the_whole_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "identity.duckdb"
    ids = build_world(database)
    forget(capsys, "--anonymous-id", "ann-phone", "--database", str(database))
    after = snapshot(database)
    assert {r[0] for r in after["identity_persons"]} == {ids["bob"]}
    assert {r[0] for r in after["raw_events"]} == BOB_EVENTS


def test_unknown_identifier_is_still_deny_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "identity.duckdb"
    build_world(database)
    before = snapshot(database)
    printed = forget(
        capsys, "--phone", "(212) 555-0199", "--default-region", "US", "--database", str(database)
    )
    assert "persons found: 0" in printed and "deny-list: 1" in printed
    assert snapshot(database) == before
    with connect(database) as con:
        assert con.execute("SELECT id_type, id_hash FROM forgotten_identifiers").fetchall() == [
            ("phone", normalize_and_hash_phone("+12125550199"))
        ]


def test_bad_values_are_named_without_echo_and_nothing_is_forgotten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "identity.duckdb"
    build_world(database)
    before = snapshot(database)
    code = main(
        ["forget", "--email", ANN_EMAIL, "--anonymous-id", "NULL", "--email",
         "ann.lee.mailbox.org", "--database", str(database)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "--email #2: not a valid email address (email_invalid)" in err
    assert "--anonymous-id #1:" in err and "blocked_value" in err
    assert "ann" not in err.lower() and "NULL" not in err
    assert snapshot(database) == before
    assert main(["forget", "--database", str(database)]) == 2
    missing = tmp_path / "typo.duckdb"
    assert main(["forget", "--email", ANN_EMAIL, "--database", str(missing)]) == 2
    assert "no warehouse file at" in capsys.readouterr().err and not missing.exists()


def test_a_hub_names_nobody_its_events_go_and_the_persons_it_touched_stay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "identity.duckdb"
    ids = build_world(database)
    family = [
        {"event_id": f"f{n}", "minutes": 200 + n, "email": f"caller{n}@home.test",
         "phone": CALL_CENTRE}
        for n in range(7)  # one phone with 7 emails: over the email limit of 5, a hub
    ]  # fmt: skip
    with connect(database) as con:
        insert_events(con, family, 3)
        stitch_new(con, 3)
        family_hash = normalize_and_hash_phone(CALL_CENTRE)
        assert con.execute(
            "SELECT reason FROM identity_hubs WHERE id_value = ?", [family_hash]
        ).fetchall() == [("fan_out",)]
    before = snapshot(database)
    printed = forget(capsys, "--phone", CALL_CENTRE, "--database", str(database))
    assert "persons found: 0" in printed and "deny-list: 1" in printed
    after = snapshot(database)
    assert {r[0] for r in after["raw_events"]} == {r[0] for r in before["raw_events"]} - {
        e["event_id"] for e in family
    }
    assert not rows_naming(after["identity_hubs"], {family_hash})
    assert not rows_naming(after["identity_identifiers"], {family_hash})
    # The callers' persons stay (their only events are gone; the next rebuild settles them).
    assert after["identity_graph"] == before["identity_graph"]
    assert after["identity_persons"] == before["identity_persons"]
    assert ids["bob"] in {r[0] for r in after["identity_persons"]}
