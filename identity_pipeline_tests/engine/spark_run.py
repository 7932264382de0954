"""One attribution run on Spark in its own process, configured only by the environment.

    python -m identity_pipeline_tests.engine.spark_run SNAPSHOT START END LOOKBACK OUT_DIR

Reads $IDENTITY_PIPELINE_ENGINE (must be spark), $SPARK_REMOTE or $SPARK_MASTER,
$IDENTITY_PIPELINE_LAKE and $IDENTITY_PIPELINE_SPARK_CONF, as the pipeline does. Registers the
snapshot's inputs, writes the id lookup to OUT_DIR/lookup (Parquet), replaces the window's
days of attributed_conversions and campaign_attribution in the lake, and writes OUT_DIR/run.json:
the lookup's Spark schema, row counts and, for a classic driver, the application id and each
executor's task count from the driver's REST API.

A process of its own because pyspark cannot hold a classic session and a Spark Connect
session in one Python process (Connect mode is process-wide), and so its driver JVM ends
with it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import requests

from identity_pipeline.attribution import on_spark
from identity_pipeline.attribution.compute import DayWindow
from identity_pipeline.engine.config import engine_name
from identity_pipeline.engine.spark import SparkResource


def _executors(resource: SparkResource) -> dict[str, Any]:
    context = resource.session().sparkContext
    base = context.uiWebUrl
    app = context.applicationId
    executors = requests.get(f"{base}/api/v1/applications/{app}/allexecutors", timeout=10).json()
    return {
        "application_id": app,
        "executors": [
            {"id": e["id"], "host_port": e["hostPort"], "total_tasks": e["totalTasks"]}
            for e in executors
        ],
    }


def main(argv: list[str]) -> int:
    snapshot, start, end, lookback, out = argv
    assert engine_name() == "spark", "set IDENTITY_PIPELINE_ENGINE=spark"
    window = DayWindow(date.fromisoformat(start), date.fromisoformat(end))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    resource = SparkResource(app_name="identity_pipeline engine test")
    report: dict[str, Any] = {"connect": resource.settings.connect}
    try:
        started = time.perf_counter()
        engine = resource.engine()
        report["session_seconds"] = round(time.perf_counter() - started, 1)
        on_spark.register_inputs(engine, snapshot)
        on_spark.build_id_lookup(engine, window.widened(int(lookback)))
        lookup = engine.session.table(on_spark.LOOKUP)
        report["lookup_schema"] = [[f.name, f.dataType.simpleString()] for f in lookup.schema]
        lookup.write.mode("overwrite").parquet(str(out_dir / "lookup"))
        engine.drop_lookup(on_spark.LOOKUP)
        attributed = on_spark.attribute_conversions(engine, window, int(lookback))
        report["attributed_rows"] = attributed.rows
        report["campaign_rows"] = on_spark.summarize_campaigns(engine, window).rows
        report["seconds"] = round(time.perf_counter() - started, 1)
        if not resource.settings.connect:
            report.update(_executors(resource))
    finally:
        resource.stop()
    (out_dir / "run.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
