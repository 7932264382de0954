"""identity_graph_refresh through Dagster: a real on-disk instance, a real DuckDB file and event
files landed in landing/events/ (hand-written JSON Lines and the generator's files)."""

import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetCheckSeverity, DagsterInstance, build_sensor_context

from identity_pipeline.definitions import defs
from identity_pipeline.dev.events import generate_events
from identity_pipeline.dev.generate_contacts import generate_contacts
from identity_pipeline.identity_graph.definitions import event_files_sensor
from identity_pipeline.identity_graph.persons import person_id_for
from identity_pipeline.resources import LandingArea
from identity_pipeline_tests.identity_graph.conftest import T0
from identity_pipeline_tests.identity_graph.landed import hashes

pytestmark = pytest.mark.integration

JOB = "identity_graph_refresh"
FULL = {
    "ops": {name: {"config": {"full_rebuild": True}} for name in ("identity_graph", "persons")}
    | {"person_journal": {"config": {"full_rebuild": True}}}
}


@pytest.fixture
def disk_instance(tmp_path: Path) -> Iterator[DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with DagsterInstance.local_temp(
        str(home), overrides={"telemetry": {"enabled": False}}
    ) as instance:
        yield instance


def event(event_id: str, minutes: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event_id,
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat() + "Z",
        "platform": fields.pop("platform", "web"),
        "valuation_properties": {
            "action": fields.pop("action", "pageview"),
            "properties": fields.pop("properties", {"page_url": "https://shop.example/"}),
        },
    }
    return body | fields


def land(workspace: Path, name: str, rows: Sequence[dict[str, Any]]) -> None:
    folder = workspace / "landing" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (folder / name).write_text(text, encoding="utf-8")


def run(instance: DagsterInstance, run_config: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    result = defs.resolve_job_def(JOB).execute_in_process(
        instance=instance, run_config=run_config or {}
    )
    assert result.success
    return result


def metadata(result, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    for materialization in result.get_asset_materialization_events():
        if materialization.asset_key.to_user_string() == key:
            return {k: v.value for k, v in materialization.materialization.metadata.items()}
    raise AssertionError(f"no materialization of {key}")


def hub_check(result):  # type: ignore[no-untyped-def]
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "no_new_hubs"
    ]
    return evaluation


def every_metadata_text(result) -> str:  # type: ignore[no-untyped-def]
    texts = [
        str(v.value)
        for m in result.get_asset_materialization_events()
        for v in m.materialization.metadata.values()
    ]
    texts += [
        str(v.value) for e in result.get_asset_check_evaluations() for v in e.metadata.values()
    ]
    return "\n".join(texts)


def query(workspace: Path, sql: str, params: Any = None) -> list[tuple]:
    with duckdb.connect(str(workspace / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def graph(workspace: Path) -> dict[tuple[str, str], str]:
    rows = query(workspace, "SELECT id_type, id_value, person_id FROM identity_graph")
    return {(t, v): p for t, v, p in rows}


def h(*emails: str) -> list[str]:
    with duckdb.connect() as con:
        return [str(x) for x in hashes(con, [("email", e) for e in emails])]


def tables(workspace: Path) -> tuple[list[tuple], ...]:
    return tuple(
        query(workspace, f"SELECT * EXCLUDE ({ts}) FROM {table} ORDER BY ALL")
        for table, ts in (
            ("identity_graph", "updated_at"),
            ("identity_persons", "updated_at"),
            ("persons", "updated_at"),
            ("person_journal", "day"),
        )
    )


def test_hand_built_cases_through_the_job(workspace: Path, disk_instance: DagsterInstance):
    cart = {"product_id": "P9", "value": 42.5, "currency": "GBP", "name": "Café ✓"}
    kiosk_emails = [f"k{n}@x.com" for n in range(2, 7)]
    land(
        workspace,
        "day1.jsonl",
        [
            # a login joins two devices
            event("ann1", 0, anonymous_id="ann-phone", platform="ios"),
            event("ann2", 5, anonymous_id="ann-laptop", email="Ann@X.com "),
            event(
                "ann3",
                50,
                anonymous_id="ann-phone",
                email="ann@x.com",
                action="add_to_cart",
                properties=cart,
            ),
            # a phone joins two emails
            event("bob1", 1, email="bob@work.com", phone="+14155550100"),
            event("bob2", 2, email="bob@home.com", phone="(415) 555-0100"),
            # a QA value joins nobody
            event("qa1", 3, anonymous_id="anonymous", email="carl@x.com"),
            event("qa2", 4, anonymous_id="anonymous", email="dora@x.com"),
            event("qa3", 4, anonymous_id="eve-dev", email="test@test.com"),
            event("qa4", 4, anonymous_id="fay-dev", email="TEST@test.com"),
            # a call centre's phone on six customers' orders is a hub and joins nobody
            *(event(f"cc{n}", 6, email=f"caller{n}@x.com", phone="+18005550199") for n in range(6)),
            # two devices of one person, not linked yet
            event("gus1", 0, anonymous_id="gus-a"),
            event("gus2", 10, anonymous_id="gus-b"),
            # ida's anchor is her email (seen first, with her device: type priority)
            event("ida1", 0, anonymous_id="ida-home", email="ida@x.com"),
            event("ida2", 5, anonymous_id="kiosk", email="ida@x.com"),
            event("ida3", 6, anonymous_id="kiosk", email="j1@x.com"),
        ],
    )
    first = run(disk_instance)
    g = graph(workspace)
    ann = person_id_for("anonymous_id", "ann-phone")
    ann_email, bob_work, bob_home = h("ann@x.com", "bob@work.com", "bob@home.com")
    assert g[("anonymous_id", "ann-laptop")] == g[("email", ann_email)] == ann
    assert g[("email", bob_home)] == g[("email", bob_work)] == person_id_for("email", bob_work)
    carl, dora = h("carl@x.com", "dora@x.com")
    assert g[("email", carl)] != g[("email", dora)]
    assert g[("anonymous_id", "eve-dev")] != g[("anonymous_id", "fay-dev")]
    callers = h(*(f"caller{n}@x.com" for n in range(6)))
    assert len({g[("email", c)] for c in callers}) == 6
    ida, j1 = h("ida@x.com", "j1@x.com")
    assert g[("email", j1)] == g[("anonymous_id", "ida-home")] == person_id_for("email", ida)

    hubs = dict(query(workspace, "SELECT id_value, reason FROM identity_hubs"))
    (call_centre,) = [v for v, r in hubs.items() if r == "fan_out"]
    assert hubs["anonymous"] == "blocked_value" and call_centre.endswith("=")  # a hash
    assert not any("@" in v or v == "+18005550199" for v in hubs)
    check = hub_check(first)
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert check.metadata["new_hubs"].value == len(hubs) == 3  # anonymous, test@, call centre
    assert "anonymous" in check.metadata["hubs"].value
    assert call_centre in check.metadata["hubs"].value
    text = every_metadata_text(first)
    assert "@" not in text and "8005550199" not in text and "4155550100" not in text
    graph_meta = metadata(first, "identity_graph")
    assert graph_meta["events"] == 20 and graph_meta["new_hubs"] == 3
    assert graph_meta["persons"] == metadata(first, "persons")["dagster/row_count"]

    journal = query(
        workspace,
        "SELECT event_id, visit, platform, action, properties, value, currency "
        "FROM person_journal WHERE person_id = $p ORDER BY created_at DESC, event_id DESC",
        {"p": ann},
    )
    assert [(e, v) for e, v, *_ in journal] == [("ann3", 2), ("ann2", 1), ("ann1", 1)]
    assert journal[0][2:4] == ("web", "add_to_cart")
    assert json.loads(journal[0][4]) == cart and journal[0][5:] == (42.5, "GBP")
    assert journal[2][2] == "ios"
    assert query(
        workspace,
        "SELECT events, visits, anonymous_ids, emails FROM persons WHERE person_id = $p",
        {"p": ann},
    ) == [(3, 2, 2, 1)]
    # every event with an identifier that is not a hub is in exactly one journal
    assert query(workspace, "SELECT count(*), count(DISTINCT event_id) FROM person_journal") == [
        (20, 20)
    ]

    # nothing new: nothing to stitch, no new hub
    again = run(disk_instance)
    assert metadata(again, "identity_graph")["events"] == 0
    assert hub_check(again).passed

    # a login merges gus's two devices: the one seen first survives, the merge is logged
    land(
        workspace,
        "day2.jsonl",
        [
            event("gus3", 30, anonymous_id="gus-b", email="gus@x.com"),
            event("gus4", 31, anonymous_id="gus-a", email="gus@x.com"),
        ],
    )
    second = run(disk_instance)
    assert metadata(second, "identity_graph")["events"] == 2
    gus_a, gus_b = person_id_for("anonymous_id", "gus-a"), person_id_for("anonymous_id", "gus-b")
    assert graph(workspace)[("anonymous_id", "gus-b")] == gus_a
    assert query(
        workspace,
        "SELECT old_person_id, new_person_id, reason, caused_by_event_id FROM person_merges",
    ) == [(gus_b, gus_a, "merge", "gus3")]  # the first event that linked gus-b onward
    assert query(workspace, "SELECT count(*) FROM persons WHERE person_id = $p", {"p": gus_b}) == [
        (0,)
    ]
    assert query(workspace, "SELECT events FROM persons WHERE person_id = $p", {"p": gus_a}) == [
        (4,)
    ]

    # the kiosk links too many emails: a hub; ida's person splits and keeps the anchor's ID
    land(
        workspace,
        "day3.jsonl",
        [
            event(f"kio{n}", 40 + n, anonymous_id="kiosk", email=e)
            for n, e in enumerate(kiosk_emails)
        ],
    )
    third = run(disk_instance)
    assert hub_check(third).metadata["new_hubs"].value == 1
    g = graph(workspace)
    assert ("anonymous_id", "kiosk") not in g
    assert g[("email", ida)] == g[("anonymous_id", "ida-home")] == person_id_for("email", ida)
    assert g[("email", j1)] == person_id_for("email", j1)
    assert (person_id_for("email", ida), person_id_for("email", j1), "split") in query(
        workspace, "SELECT old_person_id, new_person_id, reason FROM person_merges"
    )
    # ida3 (kiosk + j1) now belongs to j1's person
    assert query(workspace, "SELECT person_id FROM person_journal WHERE event_id = 'ida3'") == [
        (person_id_for("email", j1),)
    ]

    # a full rebuild gives the same IDs and the same rows, and logs nothing
    before = tables(workspace)
    logged = query(workspace, "SELECT count(*) FROM person_merges")
    rebuilt = run(disk_instance, FULL)
    assert metadata(rebuilt, "identity_graph")["changes_by_reason"] == {}
    assert metadata(rebuilt, "persons")["full_rebuild"] is True
    assert tables(workspace) == before
    assert query(workspace, "SELECT count(*) FROM person_merges") == logged


def test_generated_events_and_contacts_through_the_job_equal_a_full_rebuild(
    workspace: Path, disk_instance: DagsterInstance
):
    landing = workspace / "landing"
    generate_contacts(1_500, landing, seed=5)
    contacts = defs.resolve_job_def("ingest_contacts").execute_in_process(instance=disk_instance)
    assert contacts.success
    generate_events(4_000, landing, seed=5, events_per_file=2_000)
    first = run(disk_instance)
    meta = metadata(first, "identity_graph")
    loaded = query(workspace, "SELECT count(*) FROM raw_events")[0][0]
    assert loaded > 3_900 and meta["events"] == loaded
    assert meta["crm_links"] == query(workspace, "SELECT count(*) FROM customer_dii")[0][0]
    assert not hub_check(first).passed  # the generator's QA values
    hubs = query(workspace, "SELECT id_type, reason FROM identity_hubs")
    assert ("anonymous_id", "blocked_value") in hubs and ("email", "blocked_value") in hubs

    # a later file: only its events are stitched; the tables equal a rebuild from scratch
    generate_events(1_000, landing / "later", seed=6)
    (later,) = (landing / "later" / "events").iterdir()
    later.rename(landing / "events" / "later.jsonl.gz")
    second = run(disk_instance)
    added = query(workspace, "SELECT count(*) FROM raw_events")[0][0] - loaded
    assert added > 900 and metadata(second, "identity_graph")["events"] == added
    assert metadata(second, "persons")["persons_refreshed"] > 0
    incremental = tables(workspace)
    run(disk_instance, FULL)
    assert tables(workspace) == incremental
    multi_device, with_customer = query(
        workspace,
        "SELECT count(*) FILTER (WHERE anonymous_ids > 1), "
        "count(*) FILTER (WHERE len(customer_ids) > 0) FROM persons",
    )[0]
    assert multi_device > 0 and with_customer > 0
    # the contacts' privacy check scans every table but raw_*: the graph's pass it
    again = defs.resolve_job_def("ingest_contacts").execute_in_process(
        instance=disk_instance, raise_on_error=False
    )
    (privacy,) = [
        e
        for e in again.get_asset_check_evaluations()
        if e.check_name == "no_raw_dii_in_derived_tables"
    ]
    assert privacy.passed, privacy.metadata["findings"].value


def test_a_landed_event_file_triggers_one_refresh_run(
    workspace: Path, disk_instance: DagsterInstance
):
    def evaluate(cursor: str | None):  # type: ignore[no-untyped-def]
        context = build_sensor_context(
            instance=disk_instance, cursor=cursor, resources={"landing": LandingArea()}
        )
        return event_files_sensor(context)

    assert not evaluate(None).run_requests  # nothing landed
    land(workspace, "fresh.jsonl", [event("s1", 0, anonymous_id="d1")])
    (workspace / "landing" / "events" / "notes.txt").write_text("not an event file")
    assert not evaluate(None).run_requests  # still being written (inside the settle time)
    past = time.time() - 60
    for path in (workspace / "landing" / "events").iterdir():
        os.utime(path, (past, past))
    result = evaluate(None)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].job_name in (None, JOB)
    assert not evaluate(result.cursor).run_requests  # the same file never launches twice
    assert event_files_sensor.job_name == JOB


def test_stitching_rules_come_from_the_run_config(workspace: Path, disk_instance: DagsterInstance):
    land(
        workspace,
        "shared.jsonl",
        [
            event("r1", 0, anonymous_id="family-tablet", email="mum@x.com"),
            event("r2", 1, anonymous_id="family-tablet", email="dad@x.com"),
            event("r3", 2, anonymous_id="kiosk-7", email="mum@x.com"),
            event("r4", 3, anonymous_id="dad-phone", email="dad@x.com"),
        ],
    )
    config = {
        "ops": {
            "identity_graph": {
                "config": {
                    "blocked_patterns": {"anonymous_id": ["^kiosk-[0-9]+$"], "*": ["^-1$"]},
                    "max_links": {"email": 1},
                }
            }
        }
    }
    result = run(disk_instance, config)
    hubs = query(
        workspace, "SELECT id_value, reason, blocked_pattern FROM identity_hubs ORDER BY 1"
    )
    assert hubs == [
        ("family-tablet", "fan_out", None),  # two emails, one allowed
        ("kiosk-7", "blocked_value", "^kiosk-[0-9]+$"),
    ]
    mum, dad = h("mum@x.com", "dad@x.com")
    g = graph(workspace)
    assert g[("email", mum)] != g[("email", dad)] == g[("anonymous_id", "dad-phone")]
    assert hub_check(result).metadata["by_reason"].value == {"fan_out": 1, "blocked_value": 1}
