"""Engine settings from environment variables, read at run time (never at import).

IDENTITY_PIPELINE_ENGINE       duckdb (default) | spark
SPARK_REMOTE                   Spark Connect URL, e.g. sc://spark-connect.internal:15002
SPARK_MASTER                   master URL for a classic driver: local[*], spark://host:7077
IDENTITY_PIPELINE_LAKE         where Spark tables live: a path or any URI the cluster reads
IDENTITY_PIPELINE_SPARK_CONF   extra Spark settings, k=v,k=v
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ENV_ENGINE = "IDENTITY_PIPELINE_ENGINE"
ENV_SPARK_REMOTE = "SPARK_REMOTE"
ENV_SPARK_MASTER = "SPARK_MASTER"
ENV_LAKE = "IDENTITY_PIPELINE_LAKE"
ENV_SPARK_CONF = "IDENTITY_PIPELINE_SPARK_CONF"

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
DEFAULT_MASTER = "local[*]"
DEFAULT_LAKE = "data/lake"

EngineName = Literal["duckdb", "spark"]


def engine_name(override: str | None = None) -> EngineName:
    """The engine attribution SQL runs on: $IDENTITY_PIPELINE_ENGINE, default duckdb."""
    value = (override or os.environ.get(ENV_ENGINE) or DEFAULT_ENGINE).strip().lower()
    if value == "duckdb":
        return "duckdb"
    if value == "spark":
        return "spark"
    raise ValueError(f"${ENV_ENGINE} must be one of {', '.join(ENGINES)}, got {value!r}")


def parse_spark_conf(text: str, *, source: str = ENV_SPARK_CONF) -> dict[str, str]:
    """`k=v,k=v` -> {k: v}. Keys must start with `spark.`; a value may contain `=`."""
    conf: dict[str, str] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"{source}: {item!r} is not key=value")
        if not key.startswith("spark."):
            raise ValueError(f"{source}: {key!r} is not a Spark setting (spark.*)")
        conf[key] = value
    return conf


@dataclass(frozen=True)
class SparkSettings:
    """How to reach Spark and where its tables live; `remote` wins over `master`."""

    remote: str | None = None
    master: str = DEFAULT_MASTER
    lake: str = DEFAULT_LAKE
    conf: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.remote is not None and not self.remote.startswith("sc://"):
            raise ValueError(f"${ENV_SPARK_REMOTE} must be a Spark Connect URL sc://host:port")
        if not self.lake:
            raise ValueError(f"${ENV_LAKE} is empty")

    @property
    def connect(self) -> bool:
        return self.remote is not None

    @property
    def target(self) -> str:
        """Where the session runs, for logs and metadata (no credentials in a URL)."""
        if self.remote is not None:
            return self.remote.split(";", 1)[0]
        return self.master


def spark_settings(
    *,
    remote: str | None = None,
    master: str | None = None,
    lake: str | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSettings:
    """Explicit values first, then the environment, then defaults. Extra conf is merged:
    $IDENTITY_PIPELINE_SPARK_CONF first, explicit `conf` on top."""
    env_remote = os.environ.get(ENV_SPARK_REMOTE) or None
    merged = parse_spark_conf(os.environ.get(ENV_SPARK_CONF, ""))
    merged.update(conf or {})
    return SparkSettings(
        remote=remote or (None if master else env_remote),
        master=master or os.environ.get(ENV_SPARK_MASTER) or DEFAULT_MASTER,
        lake=absolute_lake(lake or os.environ.get(ENV_LAKE) or DEFAULT_LAKE),
        conf=merged,
    )


def absolute_lake(lake: str) -> str:
    """A URI as it is; a plain path made absolute, since executors and a Spark Connect
    server resolve relative paths against their own working folders, not ours."""
    if ":" in lake.split("/", 1)[0]:  # s3a://..., hdfs://..., file:/...
        return lake
    return str(Path(lake).resolve())
