"""`generate --days` output through contacts ingestion, sandbox-true mappings and attribution.

The generator picks each impression's ad id from the sandboxes' models on the day it is
served; the pipeline resolves them with mapping rows computed at a later `now`. The two sides
count stale ids independently, so agreement here means rotations are really handled.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import requests
from dagster import DagsterInstance

from identity_pipeline import cli, settings
from identity_pipeline.attribution.compute import DayWindow, build_id_lookup
from identity_pipeline.definitions import defs
from identity_pipeline.dev.sandbox_mapping import write_sandbox_mappings
from identity_pipeline.sandboxes.id5 import ID5Sandbox, ID5SandboxConfig, ID5UidModel
from identity_pipeline.sandboxes.uid2 import UID2SandboxConfig
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.attribution.conftest import run_days

pytestmark = pytest.mark.integration

NOW = "2025-06-12T06:00:00"


def test_generated_days_resolve_through_rotations(
    workspace: Path,
    instance: DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv(settings.ENV_NOW, NOW)
    landing = workspace / "landing"
    argv = ["generate", "--rows", "3000", "--out", str(landing), "--seed", "5"]
    assert (
        cli.main(
            [*argv, "--days", "10", "--start-date", "2025-06-01", "--impressions-per-day", "400"]
        )
        == 0
    )
    summary = capsys.readouterr().out.splitlines()[-1]
    known, previous, older = (
        int(summary.split(word)[0].split()[-1].strip("(,"))
        for word in (" to customers", " with a UID2", " with an older")
    )
    assert previous > 0 and older > 0
    assert len(list((landing / "impressions").iterdir())) == 10

    assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    now = datetime.fromisoformat(NOW).replace(tzinfo=UTC)
    with connect(settings.database_path()) as con:
        counts = write_sandbox_mappings(
            con,
            now=now,
            history_from=date(2025, 6, 1),
            uid2_config=UID2SandboxConfig(optout_rate=0),
        )
    assert counts.uid2_optout == 0 and counts.uid2_with_previous > 0
    run_days(instance, "2025-06-01", "2025-06-10")

    with connect(settings.database_path()) as con:
        build_id_lookup(con, DayWindow(date(2025, 6, 1), date(2025, 6, 11)))
        by_match = dict(
            con.execute(
                "SELECT matched_via, count(*) FROM impressions JOIN attr_id_lookup "
                "USING (id_type, id) GROUP BY 1"
            ).fetchall()
        )
        attributed = con.execute(
            "SELECT count(DISTINCT conversion_id), count(DISTINCT matched_via) "
            "FROM attributed_conversions"
        ).fetchone()
    # Every impression served to a customer resolves, and no stranger's does.
    assert sum(by_match.values()) == known
    assert by_match["uid2_previous"] == previous
    assert by_match.get("id5_previous", 0) + by_match.get("id5_history", 0) == older
    assert attributed is not None and attributed[0] > 0 and attributed[1] >= 3


def test_opted_out_generated_identities_earn_nothing(
    workspace: Path, instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(settings.ENV_NOW, NOW)
    landing = workspace / "landing"
    assert (
        cli.main(
            [
                "generate",
                "--rows",
                "2000",
                "--out",
                str(landing),
                "--days",
                "5",
                "--start-date",
                "2025-06-05",
                "--impressions-per-day",
                "300",
            ]
        )
        == 0
    )
    assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    now = datetime.fromisoformat(NOW).replace(tzinfo=UTC)
    with connect(settings.database_path()) as con:
        counts = write_sandbox_mappings(
            con,
            now=now,
            history_from=date(2025, 6, 5),
            uid2_config=UID2SandboxConfig(optout_rate=0.2),
        )
    assert counts.uid2_optout > 0
    run_days(instance, "2025-06-05", "2025-06-09")
    with duckdb.connect(str(settings.database_path()), read_only=True) as con:
        leaked = con.execute(
            "SELECT count(*) FROM attributed_conversions AS a JOIN uid2_mapping AS m "
            "USING (dii_id) WHERE m.status = 'optout'"
        ).fetchone()
        credited = con.execute("SELECT count(*) FROM attributed_conversions").fetchone()
    assert leaked == (0,)
    assert credited is not None and credited[0] > 0


def test_id5_uid_model_answers_like_the_running_sandbox():
    model = ID5UidModel(ID5SandboxConfig())
    hashes = [f"{n:064x}" for n in range(1, 40)]
    with ID5Sandbox(ID5SandboxConfig()) as sandbox:
        response = requests.post(
            sandbox.signals_url,
            params={"token": sandbox.config.token},
            json={"users": [{"email_sha256": h} for h in hashes]},
            timeout=10,
        )
        days = datetime.now(UTC).timestamp() / 86_400
    assert response.status_code == 200
    assert [u["uid"] for u in response.json()["users"]] == [model.uid(h, days) for h in hashes]
