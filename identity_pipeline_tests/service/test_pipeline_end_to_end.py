"""The service and the pipeline together, through the real parts: `identity-pipeline serve`
(its own process, port 0) on an empty warehouse takes seed 003's requests while
`identity-pipeline run identity_graph_refresh` (the real Dagster path, its own process and
instance) ingests what the service landed, builds the graph and publishes the snapshot the
service swaps in. Every acknowledged event reaches raw_events; the service's UUIDs are the
graph's; answers stay the same across the swap; a SIGKILL mid-load loses nothing."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import requests

from identity_pipeline_tests.service.service_process import (
    Service,
    running,
    service_env,
    start,
    stop,
)
from identity_pipeline_tests.service.test_contract import (
    DAGSTER_JOURNAL,
    FULL_EXAMPLE,
    JOURNAL_EXAMPLE,
    RESOLVE_IDENTITY,
    SEGMENT,
    TRACK_EVENT,
)

FAST = {
    "IDENTITY_SERVICE_SEGMENT_SECONDS": "0.3",
    "IDENTITY_SERVICE_GRAPH_POLL_SECONDS": "0.2",
}
CREATE = {"count_prev_visits": True}
LIVE = re.compile(r"graph (v-\S+) live \((\d+) persons, (\d+) events carried over\)")


def pipeline_env(root: Path) -> dict[str, str]:
    """The service's settings plus the warehouse and the Dagster instance: one
    IDENTITY_SERVICE_GRAPH for the service and the pipeline."""
    return service_env(
        root,
        IDENTITY_PIPELINE_DB=str(root / "identity.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )


def refresh(root: Path) -> subprocess.CompletedProcess[str]:
    """`identity-pipeline run identity_graph_refresh` as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", "run", "identity_graph_refresh"],
        env=pipeline_env(root),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def warehouse(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "identity.duckdb"), read_only=True)


def data(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return dict(body["data"])


def landed_lines(service: Service) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in service.landing_events()
        if path.name.startswith("service-")
        for line in path.read_bytes().splitlines()
    ]


def wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def live_versions(root: Path) -> list[tuple[str, int, int]]:
    text = (root / "service.log").read_text()
    return [(v, int(p), int(c)) for v, p, c in LIVE.findall(text)]


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has a file descriptor on `path` (or its .wal)."""
    names = {str(path.resolve()), str(path.resolve()) + ".wal"}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if str(fd.readlink()) in names:
                return True
        except OSError:  # closed while we looked
            continue
    return False


class Load(threading.Thread):
    """A client that keeps creating events (a new device each) and reading each one's
    journal back while the pipeline runs: every answer must be a 200, and every journal must
    start with the event just created (read-your-writes, across snapshot swaps too)."""

    def __init__(self, service: Service, prefix: str, *, reads: bool = True) -> None:
        super().__init__(daemon=True)
        self.service, self.prefix, self.reads = service, prefix, reads
        self.halt = threading.Event()
        self.acked: dict[str, str] = {}
        self.failures: list[str] = []
        self.misses = 0

    def run(self) -> None:
        session = requests.Session()
        url = f"{self.service.url}/api/v1/identifier"
        n = 0
        while not self.halt.is_set():
            n += 1
            device = f"{self.prefix}-{n}"
            try:
                created = session.post(
                    url,
                    json={"platform": "web", "anonymous_id": device, "count_prev_visits": True},
                    headers={"Authorization": "Bearer writer-token"},
                    timeout=30,
                )
            except requests.RequestException as exc:
                self.failures.append(type(exc).__name__)
                return
            if created.status_code != 200:
                self.failures.append(str(created.status_code))
                continue
            self.acked[device] = created.json()["data"]["uuid"]
            if self.reads:
                read = session.post(
                    url,
                    json={"platform": "web", "anonymous_id": device},
                    headers={"Authorization": "Bearer reader-token"},
                    timeout=30,
                )
                journal = read.json()["data"]["journal"] if read.status_code == 200 else []
                if [e.get("anonymous_id") for e in journal] != [device]:
                    self.misses += 1
            time.sleep(0.02)

    @contextmanager
    def running(self) -> Iterator[Load]:
        self.start()
        try:
            yield self
        finally:
            self.halt.set()
            self.join(timeout=60)


def test_the_pipeline_ingests_what_the_service_accepts_while_it_keeps_serving(
    tmp_path: Path,
) -> None:
    assert not (tmp_path / "identity.duckdb").exists()  # an empty warehouse
    with running(tmp_path, **FAST) as service:
        recorded = 0
        full = data(service.post(FULL_EXAMPLE))
        journal_example = data(service.post(JOURNAL_EXAMPLE))
        resolved = data(service.post(RESOLVE_IDENTITY))
        tracked = data(service.post(TRACK_EVENT))
        segment = data(service.post(SEGMENT))
        recorded += 5
        # two events sharing an identifier (the email, spelled differently): one uuid at once
        laptop = data(
            service.post(
                {
                    "platform": "web",
                    "anonymous_id": "laptop-7",
                    "email": "lou@corp.io ",
                    "count_prev_visits": True,
                }
            )
        )
        phone = data(
            service.post(
                {
                    "platform": "app",
                    "anonymous_id": "phone-7",
                    "email": "LOU@corp.io",
                    "count_prev_visits": True,
                    "valuation_properties": {
                        "action": "purchase",
                        "properties": {"value": 12.5, "currency": "EUR"},
                    },
                }
            )
        )
        recorded += 2
        # two persons the first graph will hold apart, joined after it (a merge)
        older = data(service.post({"platform": "web", "anonymous_id": "m-old", **CREATE}))
        newer = data(service.post({"platform": "web", "anonymous_id": "m-new", **CREATE}))
        recorded += 2
        assert older["uuid"] != newer["uuid"]
        assert phone["uuid"] == laptop["uuid"] and phone["count_prev_visits"] == 1
        assert journal_example["uuid"] == full["uuid"] and tracked["uuid"] == resolved["uuid"]
        lou_before = data(service.post({"platform": "web", "anonymous_id": "phone-7"}))
        user_before = data(service.post(DAGSTER_JOURNAL, token="reader-token"))
        # an event the service never saw, landed by another producer: it reaches the
        # service's answers only through the pipeline's snapshot
        other = {
            "platform": "app",
            "anonymous_id": "user123",
            "valuation_properties": {"action": "app_open", "properties": {}},
            "event_id": "app-export-1",
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        (tmp_path / "landing" / "events" / "app-export.jsonl").write_text(json.dumps(other) + "\n")
        wait_for(lambda: len(landed_lines(service)) >= recorded, "the seed events to land")

        with Load(service, "busy").running() as load:
            first = refresh(tmp_path)  # the job runs while the service keeps serving
            wait_for(lambda: live_versions(tmp_path), "the service to swap the snapshot in")
            time.sleep(1)  # requests keep flowing after the swap
        assert "succeeded" in first.stdout
        assert load.failures == [] and load.misses == 0
        assert len(load.acked) >= 20, "the service did not keep serving during the job"
        assert not holds_open(service.process.pid, tmp_path / "identity.duckdb")

        # the snapshot is live: the other producer's event is in user123's journal now
        user_after = data(service.post(DAGSTER_JOURNAL, token="reader-token"))
        assert user_after["uuid"] == user_before["uuid"]
        assert user_after["journal"][1:] == user_before["journal"]
        del other["event_id"]
        assert user_after["journal"][0] == other
        # read-your-writes across the swap: the same answer, entry for entry
        lou_after = data(service.post({"platform": "web", "anonymous_id": "phone-7"}))
        assert lou_after == lou_before
        assert [e["anonymous_id"] for e in lou_after["journal"]] == ["phone-7", "laptop-7"]

        # the graph holds m-old and m-new apart; an email now joins them: the person seen
        # first survives at once, and the retired uuid names the survivor
        for device in ("m-new", "m-old"):
            joined = data(
                service.post(
                    {"platform": "web", "anonymous_id": device, "email": "mo@corp.io", **CREATE}
                )
            )
        recorded += 2
        assert joined["uuid"] == older["uuid"]
        by_retired = data(service.post({"platform": "web", "anonymous_id": newer["uuid"]}))
        assert by_retired["uuid"] == older["uuid"] and len(by_retired["journal"]) == 4

        # a second run, with the service still serving, ingests what landed during the first
        wait_for(
            lambda: len(landed_lines(service)) >= recorded + len(load.acked),
            "the load's events to land",
        )
        versions = len(live_versions(tmp_path))
        refresh(tmp_path)
        wait_for(lambda: len(live_versions(tmp_path)) > versions, "the second snapshot")
        # every accepted event is in the graph now: nothing is left in the service's overlay
        assert live_versions(tmp_path)[-1][2] == 0
        acknowledged = recorded + len(load.acked)
        answers = {
            "anonUser1234567": full["uuid"],
            "user123": resolved["uuid"],
            "seg-anon-1": segment["uuid"],
            "laptop-7": laptop["uuid"],
            "phone-7": phone["uuid"],
            "m-old": older["uuid"],
            "m-new": newer["uuid"],
            **load.acked,
        }
        current = {
            device: data(service.post({"platform": "web", "anonymous_id": device}))["uuid"]
            for device in ("anonUser1234567", "user123", "seg-anon-1", "laptop-7", "phone-7")
        }
        after_merge = data(service.post({"platform": "web", "anonymous_id": newer["uuid"]}))
        assert not holds_open(service.process.pid, tmp_path / "identity.duckdb")

    with warehouse(tmp_path) as con:
        event_ids = {str(e["event_id"]) for e in landed_lines(service)}
        ingested = {
            str(r[0])
            for r in con.execute(
                "SELECT event_id FROM raw_events WHERE source_file LIKE 'service-%'"
            ).fetchall()
        }
        assert len(event_ids) == acknowledged  # every landed line was acknowledged, and back
        assert ingested == event_ids, f"{len(event_ids - ingested)} acknowledged events lost"
        graph = dict(
            con.execute(
                "SELECT id_value, person_id FROM identity_graph WHERE id_type = 'anonymous_id'"
            ).fetchall()
        )
        merges = dict(
            con.execute("SELECT old_person_id, new_person_id FROM person_merges").fetchall()
        )
    print(
        f"\nserve + identity_graph_refresh: {acknowledged} events acknowledged "
        f"({len(load.acked)} by a client creating and reading while the job ran, 0 failed), "
        f"{len(ingested)} ingested by event_id; snapshot swaps seen: "
        f"{len(live_versions(tmp_path))}"
    )
    for device, uuid in answers.items():
        if uuid == graph[device]:
            continue
        # or the graph later joined it to an older person, and recorded the merge
        assert merges.get(uuid) == graph[device], device
    for device, uuid in current.items():
        assert uuid == graph[device], device
    assert graph["laptop-7"] == graph["phone-7"] == laptop["uuid"]
    # the pipeline recorded the merge the service made at once
    assert graph["m-new"] == graph["m-old"] == older["uuid"]
    assert merges[newer["uuid"]] == older["uuid"]
    assert after_merge == {"uuid": older["uuid"], "journal": by_retired["journal"]}


def test_a_sigkill_mid_load_loses_no_event_the_pipeline_should_ingest(tmp_path: Path) -> None:
    service = start(tmp_path, IDENTITY_SERVICE_SEGMENT_SECONDS="0.5")
    loads = [Load(service, f"kill{i}", reads=False) for i in range(4)]
    for load in loads:
        load.start()
    wait_for(lambda: sum(len(x.acked) for x in loads) >= 400, "400 acknowledged events")
    service.process.send_signal(signal.SIGKILL)
    service.process.wait(timeout=20)
    for load in loads:
        load.halt.set()
        load.join(timeout=60)
    assert service.process.returncode == -signal.SIGKILL
    acknowledged = {device for load in loads for device in load.acked}

    restarted = start(tmp_path, **FAST)
    try:
        refresh(tmp_path)  # while the restarted service serves
        assert data(
            restarted.post(
                {"platform": "web", "anonymous_id": "after-kill", "count_prev_visits": True}
            )
        )["uuid"]
    finally:
        stop(restarted)
    with warehouse(tmp_path) as con:
        ingested = {
            str(r[0])
            for r in con.execute(
                "SELECT anonymous_id FROM raw_events WHERE source_file LIKE 'service-%'"
            ).fetchall()
        }
    lost = acknowledged - ingested
    print(
        f"\nSIGKILL mid-load: {len(acknowledged)} events acknowledged before the kill, "
        f"{len(ingested & acknowledged)} of them ingested by identity_graph_refresh after the "
        f"restart ({len(ingested)} service events in raw_events); lost: {len(lost)}"
    )
    assert lost == set()
