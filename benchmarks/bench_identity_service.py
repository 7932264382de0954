"""Benchmark: the identity service (`identity-pipeline serve`) under concurrent clients.

Run: .venv/bin/python benchmarks/bench_identity_service.py [--persons 1000000] [--seconds 15]
     [--clients 64] [--write-share 0.34]
(the test suite's smoke run: --persons 2000 --seconds 2 --clients 8)

1. A published graph of PERSONS persons, synthetic (so the figures measure the service, not
   the generator and graph build): skewed devices per person (half have 1, some 2-3, one in
   fifty has 8), one journal entry per device, written with `publish_snapshot`, the function
   the pipeline's `identity_service_snapshot` asset ends in.
2. The service in its own process; a client process (aiohttp, asyncio, CLIENTS connections)
   sends a mix for SECONDS: create/update requests (count_prev_visits; half a known device,
   half a new one, a third with an email) and journal requests for known devices. Prints
   requests/s and p50/p99 latency per kind.
3. A write-only load; the server is killed with SIGKILL half way; the server restarts and the
   benchmark counts acknowledged events missing from landing/events/ and from the journal of
   a sample of them (must be 0).
Exits 1 if any request failed or any acknowledged event was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LISTENING = re.compile(r"listening on (http://\S+)")
TOKEN = "bench-token"  # noqa: S105 - a token for a throwaway local server


# -- the graph ------------------------------------------------------------------------------
def build_graph(persons: int, graph_dir: Path) -> tuple[int, float]:
    """A synthetic published graph; (identifiers, seconds)."""
    import duckdb
    import pyarrow as pa

    from identity_pipeline.identity_graph.persons import person_id_for
    from identity_pipeline.service.snapshot import publish_snapshot

    started = time.perf_counter()
    con = duckdb.connect()
    ids = pa.table(
        {
            "i": pa.array(range(persons), pa.int64()),
            "person_id": [person_id_for("anonymous_id", f"p{i}") for i in range(persons)],
        }
    )
    con.register("bench_ids", ids)
    con.execute(
        """
        CREATE TABLE b_persons AS
        SELECT i, person_id, 'anonymous_id' AS anchor_type, 'p' || i AS anchor_value,
            TIMESTAMP '2026-01-01' + to_seconds(i) AS first_seen_at,
            TIMESTAMP '2026-01-01' + to_seconds(i) + INTERVAL 1 DAY AS last_seen_at,
            CASE WHEN i % 50 = 0 THEN 8 WHEN i % 7 = 0 THEN 3 WHEN i % 3 = 0 THEN 2 ELSE 1 END
                AS visits
        FROM bench_ids;
        CREATE TABLE b_devices AS
        SELECT p.person_id, p.first_seen_at + to_minutes(k) AS seen_at,
            CASE WHEN k = 0 THEN 'p' || p.i ELSE 'p' || p.i || '-d' || k END AS device,
            p.i
        FROM b_persons AS p, range(p.visits) AS r(k);
        CREATE VIEW b_graph AS
        SELECT CAST(md5_number_lower('anonymous_id:' || device) >> 1 AS BIGINT) AS id_key,
            person_id
        FROM b_devices;
        CREATE VIEW b_hubs AS SELECT CAST(NULL AS BIGINT) AS id_key WHERE false;
        CREATE VIEW b_merges AS
        SELECT CAST(NULL AS VARCHAR) AS old_person_id, CAST(NULL AS VARCHAR) AS new_person_id
        WHERE false;
        CREATE VIEW b_journal AS
        SELECT person_id, seen_at AS created_at, CAST(json_object(
            'platform', 'web', 'anonymous_id', device,
            'valuation_properties', json_object('action', 'pageview', 'properties',
                json_object('page_url', 'https://shop.example/p/' || (i % 997),
                            'referrer', 'https://google.com')),
            'created_at', strftime(seen_at, '%Y-%m-%dT%H:%M:%S.%fZ')) AS VARCHAR) AS entry
        FROM b_devices;
        """
    )
    publish_snapshot(
        con,
        graph_dir,
        persons="b_persons",
        graph="b_graph",
        hubs="b_hubs",
        merges="b_merges",
        journal="b_journal",
    )
    identifiers = int(con.execute("SELECT count(*) FROM b_devices").fetchall()[0][0])
    con.close()
    return identifiers, time.perf_counter() - started


# -- the server -----------------------------------------------------------------------------
def start_server(root: Path) -> tuple[subprocess.Popen[str], str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.update(
        IDENTITY_SERVICE_TOKENS=f"{TOKEN}:read+write",
        IDENTITY_SERVICE_RATE_LIMIT="1000000",
        IDENTITY_SERVICE_DATA=str(root / "service"),
        IDENTITY_SERVICE_GRAPH=str(root / "graph"),
        IDENTITY_PIPELINE_LANDING=str(root / "landing"),
        IDENTITY_SERVICE_SEGMENT_SECONDS="5",
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "identity_pipeline.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=(root / "service.log").open("a"),
        text=True,
        env=env,
    )
    assert process.stdout is not None
    while line := process.stdout.readline():
        if found := LISTENING.search(line):
            return process, found.group(1), time.perf_counter() - started
    process.wait()
    raise SystemExit(f"serve exited: {(root / 'service.log').read_text()[-2000:]}")


def run_client(url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--client", url, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"client failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


# -- the client (its own process) -----------------------------------------------------------
async def client_main(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    rng = random.Random(os.getpid())
    latencies: dict[str, list[float]] = {"create/update": [], "journal": []}
    errors: dict[str, int] = {}
    acked: list[str] = []
    deadline = time.perf_counter() + args.seconds
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    url = f"{args.client}/api/v1/identifier"
    counter = 0

    def body(kind: str) -> dict[str, Any]:
        nonlocal counter
        known = f"p{rng.randrange(args.persons)}"
        if kind == "journal":
            return {"platform": "bench", "anonymous_id": known}
        counter += 1
        new = args.write_only or rng.random() < 0.5
        device = f"n-{os.getpid()}-{counter}" if new else known
        event: dict[str, Any] = {
            "platform": "bench",
            "count_prev_visits": True,
            "anonymous_id": device,
            "valuation_properties": {
                "action": "add_to_cart",
                "properties": {"value": round(rng.uniform(5, 200), 2), "currency": "EUR"},
            },
        }
        if rng.random() < 0.33:
            event["email"] = f"user{rng.randrange(args.persons * 2)}@corp.example"
        return event

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            kind = "create/update" if rng.random() < args.write_share else "journal"
            payload = body(kind)
            started = time.perf_counter()
            try:
                async with session.post(url, json=payload, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                errors["connection"] = errors.get("connection", 0) + 1
                if args.write_only:
                    await asyncio.sleep(0.05)
                continue
            if status == 200:
                latencies[kind].append(time.perf_counter() - started)
                if kind == "create/update" and args.write_only:
                    acked.append(payload["anonymous_id"])
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

    connector = aiohttp.TCPConnector(limit=args.clients)
    print("ready", flush=True)  # the orchestrator times its SIGKILL from here
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(args.clients)))
        elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "cpu": time.process_time(),
        "latencies": latencies,
        "errors": errors,
        "acked": acked,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(kind: str, values: list[float], elapsed: float) -> str:
    if not values:
        return f"{kind:<14} 0 requests"
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return (
        f"{kind:<14} {len(values):>9,} requests  {len(values) / elapsed:>8,.0f} req/s  "
        f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--write-share", type=float, default=0.34)
    parser.add_argument("--work", help="folder for the graph and the service (default: temp)")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(client_main(args))))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_service_") as tmp:
        root = Path(args.work) if args.work else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if (root / "graph" / "CURRENT").exists():
            print("graph: reusing the snapshot in", root / "graph")
        else:
            identifiers, seconds = build_graph(args.persons, root / "graph")
            print(
                f"graph: {args.persons:,} persons, {identifiers:,} identifiers "
                f"(synthetic snapshot), built in {seconds:.1f} s"
            )
        process, url, startup = start_server(root)
        print(f"server: started in {startup:.1f} s ({os.cpu_count()} cores)")
        common = ["--persons", str(args.persons), "--clients", str(args.clients)]
        cpu_before, load_before = cpu_seconds(process.pid), os.getloadavg()[0]
        mixed = run_client(
            url, *common, "--seconds", str(args.seconds), "--write-share", str(args.write_share)
        )
        cpu = cpu_seconds(process.pid) - cpu_before
        print(f"== mixed load: {args.clients} connections, {mixed['elapsed']:.1f} s")
        for kind, values in mixed["latencies"].items():
            print(summary(kind, values, mixed["elapsed"]))
        served = sum(len(v) for v in mixed["latencies"].values())
        print(
            f"server CPU: {cpu:.1f} s = {100 * cpu / mixed['elapsed']:.0f}% of one core, "
            f"{1000 * cpu / max(1, served):.3f} ms a request "
            f"(machine load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores); client CPU {100 * mixed['cpu'] / mixed['elapsed']:.0f}%"
        )
        failures = sum(mixed["errors"].values())
        print(f"failed requests: {failures} {mixed['errors'] or ''}")

        # SIGKILL half way through a write-only load
        kill_after = max(1.0, args.seconds / 2)
        client = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client",
                url,
                *common,
                "--write-only",
                "--seconds",
                str(kill_after * 2),
                "--write-share",
                "1",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None
        client.stdout.readline()
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
        process.wait()
        out, _ = client.communicate()
        if process.stdout is not None:
            process.stdout.close()
        killed = json.loads(out.splitlines()[-1])
        acked = killed["acked"]
        process, url, startup = start_server(root)
        landed: set[str] = set()
        for path in (root / "landing" / "events").glob("*.jsonl"):
            with path.open("rb") as handle:
                for line in handle:
                    landed.add(json.loads(line)["anonymous_id"])
        missing = [a for a in acked if a not in landed]
        sample = random.Random(1).sample(acked, min(200, len(acked)))
        unanswered = journal_misses(url, sample)
        print(
            f"== SIGKILL mid-load: {len(acked):,} events acknowledged before the kill, "
            f"{len(acked) - len(missing):,} in landing/events/ after restart "
            f"(restart {startup:.1f} s); lost: {len(missing)}; "
            f"journal misses in a sample of {len(sample)}: {unanswered}"
        )
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if process.stdout is not None:
            process.stdout.close()
        return 1 if failures or missing or unanswered or not acked else 0


def journal_misses(url: str, devices: list[str]) -> int:
    import requests

    misses = 0
    for device in devices:
        response = requests.post(
            f"{url}/api/v1/identifier",
            json={"platform": "bench", "anonymous_id": device},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        entries = response.json()["data"]["journal"] if response.status_code == 200 else []
        if not any(e.get("anonymous_id") == device for e in entries):
            misses += 1
    return misses


if __name__ == "__main__":
    raise SystemExit(main())
