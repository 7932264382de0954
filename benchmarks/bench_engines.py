"""Attribution on DuckDB, Spark local and a two-worker standalone Spark cluster, same data.

    .venv/bin/python benchmarks/bench_engines.py                     # 1M/1M/100k, all engines
    .venv/bin/python benchmarks/bench_engines.py --case 10m --engines duckdb
    .venv/bin/python benchmarks/bench_engines.py --case 1m --case 10m
    .venv/bin/python benchmarks/bench_engines.py --people 2000 --impressions 2000 \\
        --conversions 200                                            # smoke run (the tests')

One case = mapping rows / impressions / conversions over 30 days (the data of
bench_attribution.py, built by its `--role build`: messy rotations, ID5 history, opt-outs).
Each engine runs the id lookup, attributed_conversions and campaign_attribution for the 30
days with a 30-day lookback, as a single-run backfill does:
- duckdb:  bench_attribution.py's own `--role ours` (the DuckDB path the assets run), 2 threads;
- local:   Spark local[2] in one driver JVM, reading the snapshot and day partitions the
           pipeline publishes to the lake (engine/lake.py), writing the lake's outputs;
- cluster: a standalone master and two workers (one core each, separate JVMs) on 127.0.0.1.
The lake inputs are published once from DuckDB (its time is printed on its own). After each
Spark run, both outputs are compared with DuckDB's tables row for row (EXCEPT ALL both ways);
the benchmark exits 1 on any difference.

Printed per engine: seconds (attribution only; Spark's session start-up apart), peak memory
of the driver (the process tree: Python and its JVM; DuckDB's process) and of the executors
(the two executor JVMs of the cluster, summed per sample; in local mode they live in the
driver), and input rows (mapping + impressions + conversions) per second per core.
Each engine runs in a fresh child process; memory is sampled from /proc every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIRST_DAY = date(2025, 5, 1)  # bench_attribution.py's data
DAYS = 30
LOOKBACK = 30
CASES = {"1m": (1_000_000, 1_000_000, 100_000), "10m": (10_000_000, 10_000_000, 1_000_000)}
ENGINES = ("duckdb", "local", "cluster")
OUTPUTS = ("attributed_conversions", "campaign_attribution")
SPARK_CONF = {
    # The settings SPARK_NOTES.md found best for this attribution on 2 cores.
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.autoBroadcastJoinThreshold": str(64 * 1024 * 1024),
    "spark.ui.showConsoleProgress": "false",
}


def _error_lines(err: str) -> str:
    """What a failed child said: its Python traceback and exception lines (a JVM stack trace's
    `at ...` frames left out, so the cause is not cut off by its own frames), last 4,000 chars."""
    kept = [line for line in err.splitlines() if not line.lstrip().startswith("at ")]
    return "\n".join(kept)[-4000:]


# ---- memory of process trees, sampled from /proc ------------------------------------------


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, RSS bytes, command line) of every readable process."""
    found: dict[int, tuple[int, int, str]] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        folder = Path(entry.path)
        try:
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
            rss = int((folder / "statm").read_text().split()[1]) * page
            cmdline = (
                (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry.name)] = (int(fields[1]), rss, cmdline)
    return found


def _tree(root: int, table: dict[int, tuple[int, int, str]]) -> set[int]:
    """`root` and its descendants, less forks that have not exec'd yet (a JVM forking to run
    a command: same command line as its parent, its pages shared, not more memory)."""
    members, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _, _) in table.items() if ppid in members} - members
        grew = bool(more)
        members |= more
    return {
        pid
        for pid in members & set(table)
        if pid == root or table[pid][2] != table.get(table[pid][0], (0, 0, ""))[2]
    }


class PeakMemory:
    """Peak RSS (MB) of the `driver` tree and of the executor JVMs below `worker_pids` (our
    cluster's workers: other Spark programs on a shared machine do not count), sampled in a
    thread."""

    def __init__(self, driver_pid: int, worker_pids: list[int]) -> None:
        self.driver_pid = driver_pid
        self.worker_pids = worker_pids
        self.driver_mb = 0.0
        self.executors_mb = 0.0
        self.executors_seen = 0
        self.workers_with_executors: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            table = _processes()
            driver = sum(table[p][1] for p in _tree(self.driver_pid, table))
            executors = []
            for worker in self.worker_pids:
                found = [
                    table[pid][1]
                    for pid in _tree(worker, table)
                    if "CoarseGrainedExecutorBackend" in table[pid][2]
                ]
                if found:
                    self.workers_with_executors.add(worker)
                executors += found
            self.driver_mb = max(self.driver_mb, driver / 2**20)
            self.executors_mb = max(self.executors_mb, sum(executors) / 2**20)
            self.executors_seen = max(self.executors_seen, len(executors))
            self._stop.wait(0.2)


# ---- children ------------------------------------------------------------------------------


def _child(
    args: list[str],
    env: dict[str, str] | None = None,
    watch: bool = False,
    worker_pids: list[int] | None = None,
) -> dict[str, Any]:
    """Run a child Python process; its last stdout line is JSON. With `watch`, add its peak
    memory (and that of executors below `worker_pids`)."""
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    if watch:
        with PeakMemory(process.pid, worker_pids or []) as memory:
            out, err = process.communicate()
    else:
        out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{_error_lines(err)}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if watch:
        result.update(
            driver_mb=memory.driver_mb,
            executors_mb=memory.executors_mb,
            executors_seen=memory.executors_seen,
            workers_with_executors=len(memory.workers_with_executors),
        )
    return result


def role_publish(db: Path, lake: Path) -> dict[str, Any]:
    """The lake's inputs, as the pipeline publishes them: one snapshot, the days."""
    from identity_pipeline.engine.lake import publish_days, publish_snapshot
    from identity_pipeline.engine.state import SNAPSHOT, SNAPSHOT_TABLES
    from identity_pipeline.warehouse import connect

    end = FIRST_DAY + timedelta(days=DAYS)
    started = time.perf_counter()
    with connect(db) as con:
        con.execute("SET threads = 2")
        publish_days(con, lake, "impressions", FIRST_DAY - timedelta(days=LOOKBACK), end)
        publish_days(con, lake, "conversions", FIRST_DAY, end)
        version = publish_snapshot(con, lake, SNAPSHOT, SNAPSHOT_TABLES)
    return {"seconds": time.perf_counter() - started, "snapshot": version}


def role_spark() -> dict[str, Any]:
    """Attribution on Spark, configured by the environment as the pipeline is."""
    from identity_pipeline.attribution import on_spark
    from identity_pipeline.attribution.compute import DayWindow
    from identity_pipeline.engine.lake import latest_snapshot
    from identity_pipeline.engine.spark import SparkResource
    from identity_pipeline.engine.state import SNAPSHOT

    resource = SparkResource(app_name="bench_engines")
    window = DayWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS))
    try:
        started = time.perf_counter()
        engine = resource.engine()
        engine.session.sql("SELECT 1").collect()
        session_s = time.perf_counter() - started
        started = time.perf_counter()
        on_spark.register_inputs(engine, latest_snapshot(engine.lake, SNAPSHOT))
        attributed = on_spark.attribute_conversions(engine, window, LOOKBACK)
        campaigns = on_spark.summarize_campaigns(engine, window)
        seconds = time.perf_counter() - started
        parallelism = engine.session.sparkContext.defaultParallelism
    finally:
        resource.stop()
    return {
        "session_seconds": session_s,
        "seconds": seconds,
        "attributed_rows": attributed.rows,
        "campaign_rows": campaigns.rows,
        "lookup_ids": attributed.lookup_ids,
        "parallelism": parallelism,
    }


# ---- the benchmark ---------------------------------------------------------------------------


def _spark_env(master: str, lake: Path, conf: dict[str, str], java_home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env.update(
        {
            "IDENTITY_PIPELINE_ENGINE": "spark",
            "SPARK_MASTER": master,
            "IDENTITY_PIPELINE_LAKE": str(lake),
            "IDENTITY_PIPELINE_SPARK_CONF": ",".join(f"{k}={v}" for k, v in conf.items()),
            "JAVA_HOME": java_home,
            "PYSPARK_PYTHON": sys.executable,
        }
    )
    return env


def compare(db: Path, lake: Path) -> dict[str, int]:
    """Rows of each output in DuckDB; exit 1 unless the lake holds exactly the same rows."""
    import duckdb

    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{db}' AS bench (READ_ONLY)")
        for table in OUTPUTS:
            columns = ", ".join(r[0] for r in con.execute(f"DESCRIBE bench.{table}").fetchall())
            ours = f"SELECT {columns} FROM bench.{table}"
            theirs = (
                f"SELECT {columns} FROM read_parquet('{lake}/{table}/day=*/*.parquet', "
                "hive_partitioning = true, hive_types = {'day': 'DATE'})"
            )
            row = con.execute(
                f"SELECT (SELECT count(*) FROM ({ours})), (SELECT count(*) FROM ({theirs})), "
                f"(SELECT count(*) FROM ({ours} EXCEPT ALL {theirs})), "
                f"(SELECT count(*) FROM ({theirs} EXCEPT ALL {ours}))"
            ).fetchone()
            assert row is not None
            if row[0] != row[1] or row[2] or row[3]:
                raise SystemExit(
                    f"{table}: DuckDB has {row[0]} rows, Spark {row[1]}; {row[2]} only in "
                    f"DuckDB's, {row[3]} only in Spark's"
                )
            counts[table] = int(row[0])
    return counts


def _line(name: str, seconds: float, driver_mb: float, executors: str, rate: float) -> str:
    return f"| {name} | {seconds:,.2f} | {driver_mb:,.0f} | {executors} | {rate:,.0f} |"


def run_case(people: int, impressions: int, conversions: int, engines: list[str]) -> None:
    label = f"{people:,} mapping / {impressions:,} impressions / {conversions:,} conversions"
    rows_in = people + impressions + conversions
    with tempfile.TemporaryDirectory(prefix="bench_engines_") as tmp:
        db, lake = Path(tmp) / "bench.duckdb", Path(tmp) / "lake"
        sizes = ["--people", str(people), "--impressions", str(impressions)]
        sizes += ["--conversions", str(conversions)]
        attribution = str(HERE / "bench_attribution.py")
        built = _child([attribution, "--role", "build", "--db", str(db), *sizes])
        print(f"\n== {label}: built in {built['seconds']:.1f}s: {built['counts']}")
        ours = _child([attribution, "--role", "ours", "--db", str(db)], watch=True)
        table = [
            "| engine | seconds | driver peak MB | executors peak MB | input rows/s per core |",
            "|---|---:|---:|---:|---:|",
            _line(
                "DuckDB (2 threads)",
                ours["seconds"],
                max(ours["peak_rss_mb"], ours["driver_mb"]),
                "in process",
                rows_in / ours["seconds"] / 2,
            ),
        ]
        print(
            f"duckdb: {ours['seconds']:.2f}s, {ours['touches']:,} touches, "
            f"{ours['campaign_rows']:,} campaign rows, peak RSS {ours['peak_rss_mb']:,.0f} MB"
        )
        spark_engines = [e for e in engines if e != "duckdb"]
        if spark_engines:
            published = _child(
                [__file__, "--role", "publish", "--db", str(db), "--lake", str(lake)]
            )
            print(f"published the lake's inputs from DuckDB in {published['seconds']:.2f}s")
            from identity_pipeline.dev.spark_processes import ensure_java, java_home, start_cluster

            java = ensure_java()
        for engine in spark_engines:
            for table_name in OUTPUTS:  # each run writes them afresh
                subprocess.run(["rm", "-rf", str(lake / table_name)], check=True)
            if engine == "local":
                conf = {**SPARK_CONF, "spark.driver.memory": "3g"}
                env = _spark_env("local[2]", lake, conf, java_home(java))
                result = _child([__file__, "--role", "spark"], env=env, watch=True)
                executors, cores, name = "in driver", 2, "Spark local[2]"
            else:
                cluster = start_cluster(java, Path(tmp) / "cluster", worker_memory="2g")
                try:
                    conf = {
                        **SPARK_CONF,
                        "spark.driver.host": "127.0.0.1",
                        "spark.driver.bindAddress": "127.0.0.1",
                        "spark.driver.memory": "1g",
                        # A broadcast is built in the driver: with 1 GB there, Spark's own
                        # default threshold (10 MB), not the 64 MB that suits local[2]'s 3 GB
                        # (the lookup's semi-join side is estimated below 64 MB and is not).
                        "spark.sql.autoBroadcastJoinThreshold": str(10 * 1024 * 1024),
                        "spark.executor.memory": "1536m",
                        "spark.executor.cores": "1",
                        "spark.cores.max": "2",
                        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
                        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
                    }
                    env = _spark_env(cluster.master_url, lake, conf, java_home(java))
                    workers = [p.process.pid for p in cluster.processes if p.name != "master"]
                    result = _child(
                        [__file__, "--role", "spark"], env=env, watch=True, worker_pids=workers
                    )
                finally:
                    cluster.stop()
                if result["workers_with_executors"] != 2:
                    raise SystemExit(
                        f"executor JVMs ran under {result['workers_with_executors']} of 2 workers"
                    )
                executors = f"{result['executors_mb']:,.0f} ({result['executors_seen']} JVMs)"
                cores, name = 2, "Spark standalone, 2 workers x 1 core"
            counts = compare(db, lake)
            print(
                f"{engine}: {result['seconds']:.2f}s (+ {result['session_seconds']:.1f}s session "
                f"start), outputs identical to DuckDB's: {counts}, driver peak "
                f"{result['driver_mb']:,.0f} MB, executors {executors}"
            )
            table.append(
                _line(
                    name,
                    result["seconds"],
                    result["driver_mb"],
                    executors,
                    rows_in / result["seconds"] / cores,
                )
            )
        print("\n".join(table))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=["publish", "spark"])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--lake", type=Path)
    parser.add_argument(
        "--case", action="append", choices=sorted(CASES), help="1m (default) and/or 10m"
    )
    parser.add_argument("--people", type=int, help="a custom case: mapping rows")
    parser.add_argument("--impressions", type=int)
    parser.add_argument("--conversions", type=int)
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}"
    )
    args = parser.parse_args()
    if args.role == "publish":
        print(json.dumps(role_publish(args.db, args.lake)))
        return 0
    if args.role == "spark":
        print(json.dumps(role_spark()))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown or not engines:
        parser.error(f"--engines: unknown {unknown}; choose from {', '.join(ENGINES)}")
    if "duckdb" not in engines:
        engines.insert(0, "duckdb")  # the reference every Spark output is compared with
    if args.people:
        cases = [(args.people, args.impressions or args.people, args.conversions or 1)]
    else:
        cases = [CASES[name] for name in args.case or ["1m"]]
    for people, impressions, conversions in cases:
        run_case(people, impressions, conversions, engines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
