"""Real Spark for the engine tests: Java, a standalone cluster and a Spark Connect server.

Both are session-scoped (one of each per test session, started only if a test asks) and
stop their whole process groups at the end, whether the tests passed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from identity_pipeline.dev.spark_processes import (
    ConnectServer,
    StandaloneCluster,
    ensure_java,
    start_cluster,
    start_connect_server,
)


@pytest.fixture(scope="session")
def java() -> Path:
    """Debian's Java 17 (installed with apt-get when missing, like Chromium for the UI test)."""
    return ensure_java()


@pytest.fixture(scope="session")
def spark_cluster(
    java: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StandaloneCluster]:
    cluster = start_cluster(java, tmp_path_factory.mktemp("spark-cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def spark_connect(java: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    server = start_connect_server(java, tmp_path_factory.mktemp("spark-connect"))
    try:
        yield server
    finally:
        server.stop()
