"""Nothing acknowledged is lost: kill -9 in the middle of concurrent writes, restart, and every
acknowledged event is answered and published into landing/events/; a torn last line (never
acknowledged) is cut off at start."""

from __future__ import annotations

import json
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from identity_pipeline.service.eventlog import EventLog
from identity_pipeline_tests.service.service_process import Service, running, start, stop


def test_sigkill_loses_no_acknowledged_event(tmp_path: Path) -> None:
    service = start(tmp_path, IDENTITY_SERVICE_SEGMENT_SECONDS="3600")
    acked: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def send(n: int) -> None:
        if killed.is_set():
            return
        device = f"kill-{n}"
        try:
            response = service.post(
                {"platform": "web", "count_prev_visits": True, "anonymous_id": device}
            )
        except requests.RequestException:
            return
        if response.status_code == 200:
            with lock:
                acked.append(device)
                if len(acked) == 300:
                    service.process.send_signal(signal.SIGKILL)
                    killed.set()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, range(5000)))
    assert killed.is_set(), "the server was not killed mid-load"
    service.process.wait(timeout=10)
    assert service.process.returncode == -signal.SIGKILL
    assert len(acked) >= 300

    with running(tmp_path) as restarted:
        landed = {
            json.loads(line)["anonymous_id"]
            for path in restarted.landing_events()
            for line in path.read_bytes().splitlines()
        }
        assert set(acked) <= landed, f"{len(set(acked) - landed)} acknowledged events lost"
        for device in acked[::25] + acked[-5:]:
            data = restarted.post({"platform": "web", "anonymous_id": device}).json()["data"]
            assert data["uuid"] and [e["anonymous_id"] for e in data["journal"]] == [device]


def test_a_clean_stop_publishes_the_open_segment(tmp_path: Path) -> None:
    service: Service = start(tmp_path, IDENTITY_SERVICE_SEGMENT_SECONDS="3600")
    for n in range(3):
        assert (
            service.post(
                {"platform": "web", "anonymous_id": f"s{n}", "count_prev_visits": True}
            ).status_code
            == 200
        )
    assert service.landing_events() == []
    assert stop(service) == 0
    (published,) = service.landing_events()
    rows = [json.loads(line) for line in published.read_bytes().splitlines()]
    assert [r["anonymous_id"] for r in rows] == ["s0", "s1", "s2"]
    assert all(r["event_id"] and r["created_at"].endswith("Z") for r in rows)
    assert not list((tmp_path / "landing" / "events").glob(".*"))  # no temp file left


def test_recovery_cuts_a_torn_tail_and_publishes(tmp_path: Path) -> None:
    log = EventLog(
        tmp_path / "svc", tmp_path / "landing", segment_bytes=1 << 20, segment_seconds=60
    )
    segment = log.wal_dir / "segment-000000007.jsonl"
    segment.write_bytes(b'{"anonymous_id":"a","created_at":"x"}\n{"anonymous_id":"b","crea')
    lines = list(log.recover())
    assert lines == [(7, b'{"anonymous_id":"a","created_at":"x"}\n')]
    landed = tmp_path / "landing" / "events" / log.landing_name(7)
    assert landed.read_bytes() == lines[0][1]
    assert (log.wal_dir / "segment-000000007.published.jsonl").exists()
    # replaying again publishes nothing new and yields the same lines
    assert list(log.recover()) == lines and log.published == 1
    assert list(log.recover(skip=lambda n: n == 7)) == []
    assert list(log.recover(skip=lambda n: n == 6)) == lines
