"""Real Spark processes on 127.0.0.1 from pyspark's own distribution, for the engine tests
and benchmarks/bench_engines.py.

A standalone cluster (one master, two workers, each its own JVM started with
`bin/spark-class`) and a Spark Connect server (`bin/spark-submit` of SparkConnectServer).
Every process starts in a new session (process group); `SparkProcess.stop` ends the group,
so the JVM that spark-class execs and anything it forks go with it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

JAVA = "java"
MIN_JAVA = 17


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def java_major(java: str) -> int:
    """17 for `openjdk version "17.0.15"`, 8 for `"1.8.0_392"`; 0 when unreadable."""
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return 0
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def ensure_java() -> Path:
    """Java 17+ (Spark 4 needs it): the one on PATH, else Debian's openjdk-17-jre-headless,
    installed with apt-get if missing."""
    on_path = shutil.which(JAVA)
    if on_path is not None and java_major(on_path) >= MIN_JAVA:
        return Path(on_path).resolve()
    installed = sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*/bin/java"))
    if not installed:
        command = ["apt-get", "install", "-y", "--no-install-recommends", "openjdk-17-jre-headless"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        installed = sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*/bin/java"))
        assert installed, (
            f"could not install Java 17 with `{' '.join(command)}` (needs root and the Debian "
            f"mirror): {done.stderr[-500:]}"
        )
    return installed[0].resolve()


def java_home(java: Path) -> str:
    """JAVA_HOME for a .../bin/java."""
    return str(java.parent.parent)


def spark_home() -> Path:
    """pyspark's own distribution: bin/, sbin/ and jars/ ship inside the package."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    assert (home / "bin" / "spark-class").exists(), f"no bin/spark-class under {home}"
    return home


def spark_env(java: Path, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "JAVA_HOME": java_home(java),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(work / "logs"),
            "SPARK_NO_DAEMONIZE": "1",
        }
    )
    return env


@dataclass
class SparkProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass


def start(name: str, command: list[str], env: dict[str, str], work: Path) -> SparkProcess:
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return SparkProcess(name, process, log)


def wait_for(
    what: str, check: Callable[[], bool], processes: list[SparkProcess], timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            assert process.alive(), f"{process.name} exited while waiting for {what}:\n" + (
                process.tail()
            )
        try:
            if check():
                return
        except (requests.RequestException, OSError, ValueError):
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n" + "\n".join(
            f"--- {p.name}\n{p.tail(1500)}" for p in processes
        )
        time.sleep(0.5)


@dataclass
class StandaloneCluster:
    """One master and two workers (one core each) on 127.0.0.1."""

    master_url: str
    master_ui: str
    worker_uis: list[str]
    processes: list[SparkProcess] = field(default_factory=list)

    def master_state(self) -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(f"{self.master_ui}/json/", timeout=5).json()
        return answer

    def worker_state(self, ui: str) -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(f"{ui}/json/", timeout=5).json()
        return answer

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def start_cluster(
    java: Path, work: Path, workers: int = 2, worker_memory: str = "1g"
) -> StandaloneCluster:
    work.mkdir(parents=True, exist_ok=True)
    env = {**spark_env(java, work), "SPARK_DAEMON_MEMORY": "384m"}  # master and workers
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui_port = free_port(), free_port()
    cluster = StandaloneCluster(
        master_url=f"spark://127.0.0.1:{port}",
        master_ui=f"http://127.0.0.1:{ui_port}",
        worker_uis=[],
    )
    try:
        cluster.processes.append(
            start(
                "master",
                [
                    spark_class,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--webui-port",
                    str(ui_port),
                ],
                env,
                work,
            )
        )
        wait_for(
            "the master's UI",
            lambda: cluster.master_state().get("status") == "ALIVE",
            cluster.processes,
        )
        for number in range(1, workers + 1):
            worker_ui = free_port()
            worker_dir = work / f"worker-{number}"
            worker_dir.mkdir(exist_ok=True)
            cluster.worker_uis.append(f"http://127.0.0.1:{worker_ui}")
            cluster.processes.append(
                start(
                    f"worker-{number}",
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        "--host",
                        "127.0.0.1",
                        "--webui-port",
                        str(worker_ui),
                        "--cores",
                        "1",
                        "--memory",
                        worker_memory,
                        "--work-dir",
                        str(worker_dir),
                        cluster.master_url,
                    ],
                    env,
                    work,
                )
            )
        wait_for(
            f"{workers} alive workers",
            lambda: (
                sum(w["state"] == "ALIVE" for w in cluster.master_state()["workers"]) == workers
            ),
            cluster.processes,
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


@dataclass
class ConnectServer:
    url: str
    process: SparkProcess

    def stop(self) -> None:
        self.process.stop()


def start_connect_server(java: Path, work: Path) -> ConnectServer:
    """A Spark Connect server (local[2] inside it) on a free 127.0.0.1 port."""
    work.mkdir(parents=True, exist_ok=True)
    env = spark_env(java, work)
    port = free_port()
    command = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name",
        "Spark Connect server",
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        f"spark.ui.port={free_port()}",
        "--conf",
        "spark.sql.shuffle.partitions=4",
    ]
    process = start("connect-server", command, env, work)

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    try:
        wait_for("the Spark Connect port", listening, [process], timeout=180)
    except BaseException:
        process.stop()
        raise
    return ConnectServer(f"sc://127.0.0.1:{port}", process)
