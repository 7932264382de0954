"""Sensors see each landed file once and trigger one run; failed runs are recorded."""

import os
import time
from pathlib import Path

from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_run_status_sensor_context,
    build_sensor_context,
)

from identity_pipeline.contacts.sensors import contact_files_sensor
from identity_pipeline.definitions import defs
from identity_pipeline.dev.generate_contacts import generate_contacts
from identity_pipeline.dev.services import id5_service
from identity_pipeline.operations.run_failures import run_failure_recorder
from identity_pipeline.optouts.sensors import suppression_files_sensor
from identity_pipeline.resources import DuckDBWarehouse, LandingArea
from identity_pipeline_tests.uid2.conftest import database, query, seed_dii


def _settled(folder: Path) -> None:
    """Age the files past the sensors' settle time, as a finished copy would be."""
    past = time.time() - 60
    for path in folder.rglob("*"):
        os.utime(path, (past, past))


def _evaluate(sensor, instance: DagsterInstance, cursor: str | None):  # type: ignore[no-untyped-def]
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": LandingArea()}
    )
    return sensor(context)


def test_a_dropped_contact_file_triggers_exactly_one_run_that_maps_only_new_identities(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, monkeypatch
) -> None:
    sandbox = uid2_sandbox()
    for name, value in (
        ("UID2_BASE_URL", sandbox.base_url),
        ("UID2_API_KEY", sandbox.config.api_key),
        ("UID2_SECRET_KEY", sandbox.config.secret),
    ):
        monkeypatch.setenv(name, value)
    landing = workspace / "landing"
    first = _evaluate(contact_files_sensor, instance, None)
    assert not first.run_requests  # nothing landed yet

    generate_contacts(600, landing, seed=3)
    _settled(landing)
    result = _evaluate(contact_files_sensor, instance, first.cursor)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    again = _evaluate(contact_files_sensor, instance, result.cursor)
    assert not again.run_requests  # same files, same cursor: no second run

    with id5_service():  # contacts_arrived maps to ID5 as well
        run = defs.resolve_job_def("contacts_arrived").execute_in_process(
            instance=instance, run_config=request.run_config, tags=request.tags
        )
    assert run.success
    identities = query("SELECT count(*) FROM dii")[0][0]
    assert query("SELECT count(*) FROM uid2_mapping") == [(identities,)]

    # A later file: the run it triggers sends only the identities it brings.
    sent = sandbox.stats.identifiers
    (landing / "contacts" / "extra.csv").write_text(
        "customer_id,email,phone,country,updated_at\n"
        "c-new-1,brand.new.person@example.com,,,2026-03-01\n"
    )
    _settled(landing)
    later = _evaluate(contact_files_sensor, instance, again.cursor)
    assert len(later.run_requests) == 1
    assert later.run_requests[0].run_key != request.run_key
    with id5_service():
        run = defs.resolve_job_def("contacts_arrived").execute_in_process(
            instance=instance, run_config=later.run_requests[0].run_config
        )
    assert run.success
    assert query("SELECT count(*) FROM id5_mapping")[0][0] > 0
    assert sandbox.stats.identifiers == sent + 1


def test_suppression_file_sensor_waits_for_a_settled_file(
    workspace: Path, instance: DagsterInstance
) -> None:
    folder = workspace / "landing" / "optouts"
    folder.mkdir()
    (folder / "list.csv").write_text("uid2_hash\n" + "A" * 43 + "=\n")
    assert not _evaluate(suppression_files_sensor, instance, None).run_requests  # still fresh
    _settled(folder)
    result = _evaluate(suppression_files_sensor, instance, None)
    assert len(result.run_requests) == 1
    assert not _evaluate(suppression_files_sensor, instance, result.cursor).run_requests


def test_failed_mapping_run_is_logged_and_recorded_with_batch_and_reason(
    workspace: Path, instance: DagsterInstance, uid2_sandbox, monkeypatch
) -> None:
    sandbox = uid2_sandbox(fault_rate=1.0)
    monkeypatch.setenv("UID2_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("UID2_API_KEY", sandbox.config.api_key)
    monkeypatch.setenv("UID2_SECRET_KEY", sandbox.config.secret)
    seed_dii(database(), 10)
    result = defs.resolve_job_def("uid2_refresh").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={
            "resources": {
                "uid2": {
                    "config": {
                        "base_url": sandbox.base_url,
                        "api_key": sandbox.config.api_key,
                        "secret_key": sandbox.config.secret,
                        "max_retry_seconds": 1.0,
                        "initial_backoff_seconds": 0.01,
                        "read_timeout_seconds": 0.5,
                    }
                }
            }
        },
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="run_failure_recorder",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"warehouse": DuckDBWarehouse()},
    ).for_run_failure()
    run_failure_recorder(context)
    rows = query("SELECT run_id, job_name, step_keys, message FROM run_failures")
    assert len(rows) == 1
    run_id, job, steps, message = rows[0]
    assert (run_id, job, steps) == (result.run_id, "uid2_refresh", "uid2_mapping")
    assert "UID2 batch 1/1 (10 identities): gave up after" in message
    assert "last error:" in message
    assert sandbox.config.api_key not in message and sandbox.config.secret not in message
