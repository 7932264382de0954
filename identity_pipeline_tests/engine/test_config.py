"""Engine settings from the environment, and the promise that DuckDB users never load Spark."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from identity_pipeline.engine import config
from identity_pipeline.engine.config import engine_name, parse_spark_conf, spark_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        config.ENV_ENGINE,
        config.ENV_SPARK_REMOTE,
        config.ENV_SPARK_MASTER,
        config.ENV_LAKE,
        config.ENV_SPARK_CONF,
    ):
        monkeypatch.delenv(name, raising=False)


def test_duckdb_is_the_default_engine_and_spark_is_chosen_by_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine_name() == "duckdb"
    monkeypatch.setenv(config.ENV_ENGINE, " Spark ")
    assert engine_name() == "spark"
    monkeypatch.setenv(config.ENV_ENGINE, "polars")
    with pytest.raises(ValueError, match="IDENTITY_PIPELINE_ENGINE"):
        engine_name()


def test_spark_settings_read_env_and_explicit_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = spark_settings()
    assert (defaults.remote, defaults.master) == (None, "local[*]")
    assert defaults.lake == str(Path("data/lake").resolve())  # executors have other cwds
    monkeypatch.setenv(config.ENV_SPARK_MASTER, "spark://10.0.0.5:7077")
    monkeypatch.setenv(config.ENV_LAKE, "s3a://bucket/lake")
    monkeypatch.setenv(
        config.ENV_SPARK_CONF, "spark.sql.shuffle.partitions=64, spark.executor.memory=8g"
    )
    settings = spark_settings(conf={"spark.executor.memory": "16g"})
    assert settings.master == "spark://10.0.0.5:7077" and not settings.connect
    assert settings.lake == "s3a://bucket/lake"
    assert settings.conf == {
        "spark.sql.shuffle.partitions": "64",
        "spark.executor.memory": "16g",
    }
    monkeypatch.setenv(config.ENV_SPARK_REMOTE, "sc://connect.internal:15002/;token=abc")
    remote = spark_settings()
    assert remote.connect and remote.target == "sc://connect.internal:15002/"
    # An explicit master means a classic driver, even with $SPARK_REMOTE set.
    assert not spark_settings(master="local[2]").connect


def test_bad_settings_fail_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="not key=value"):
        parse_spark_conf("spark.a=1,oops")
    with pytest.raises(ValueError, match="not a Spark setting"):
        parse_spark_conf("executor.memory=1g")
    assert parse_spark_conf("spark.x=a=b,,") == {"spark.x": "a=b"}
    monkeypatch.setenv(config.ENV_SPARK_REMOTE, "http://host:15002")
    with pytest.raises(ValueError, match="SPARK_REMOTE"):
        spark_settings()


def test_loading_the_pipeline_imports_neither_pyspark_nor_sqlglot() -> None:
    """The default install has no pyspark; definitions and the resource must not need it."""
    script = textwrap.dedent(
        """
        import sys
        import identity_pipeline.definitions
        from identity_pipeline.engine.spark import SparkResource
        import identity_pipeline.attribution.on_spark
        resource = SparkResource(master="local[1]")
        assert resource.settings.master == "local[1]" and not resource.started
        resource.stop()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "sqlglot", "py4j"))
        assert not loaded, loaded
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
