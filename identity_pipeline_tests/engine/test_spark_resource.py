"""SparkResource in a real Dagster run with a real local Spark driver (in a child process, so
its driver JVM ends with it): lazy start, stops its own session, never a borrowed one."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from identity_pipeline.dev.spark_processes import java_home

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    from dagster import asset, materialize
    from pyspark.sql import SparkSession
    from identity_pipeline.engine.spark import SparkResource

    conf = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}

    @asset
    def counted(spark: SparkResource) -> int:
        return spark.engine().session.range(5).count()

    @asset
    def untouched(spark: SparkResource) -> bool:
        return spark.started

    # A resource that is never used starts nothing.
    idle = SparkResource(master="local[1]", conf=conf)
    result = materialize([untouched], resources={"spark": idle})
    assert result.success and result.output_for_node("untouched") is False

    # Used in a run: started on first use, stopped when the run's resources are torn down.
    ours = SparkResource(master="local[1]", conf=conf)
    result = materialize([counted], resources={"spark": ours})
    assert result.success and result.output_for_node("counted") == 5
    assert SparkSession.getActiveSession() is None

    # A session someone else started is borrowed, not stopped.
    theirs = SparkSession.builder.master("local[1]").config(map=conf).getOrCreate()
    borrowed = SparkResource(master="local[1]", conf=conf)
    assert borrowed.session() is theirs
    borrowed.stop()
    assert theirs.range(3).count() == 3
    assert theirs.conf.get("spark.sql.session.timeZone") == "UTC"
    theirs.stop()
    print("ok")
    """
)


def test_resource_starts_lazily_and_stops_only_its_own_session(java: Path) -> None:
    # A classic driver: nothing of an earlier test's Spark Connect session may leak in
    # (pyspark marks a process that made a Connect session with SPARK_CONNECT_MODE_ENABLED).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARK_")}
    env["JAVA_HOME"] = java_home(java)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")
