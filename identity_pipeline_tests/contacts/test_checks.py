"""The blocking contact checks pass on real ingestion and fail on the damage they guard against."""

from pathlib import Path

from dagster import DagsterInstance

from identity_pipeline.definitions import defs
from identity_pipeline.dev.generate_contacts import generate_contacts
from identity_pipeline_tests.uid2.conftest import query


def _checks(instance: DagsterInstance) -> dict[str, tuple[bool, dict[str, object]]]:
    result = defs.resolve_job_def("ingest_contacts").execute_in_process(
        instance=instance, raise_on_error=False
    )
    return {
        e.asset_check_key.name: (e.passed, {k: v.value for k, v in e.metadata.items()})
        for e in result.get_asset_check_evaluations()
    }


def test_checks_pass_on_ingested_data_and_catch_damage(
    workspace: Path, instance: DagsterInstance
) -> None:
    generate_contacts(3_000, workspace / "landing", seed=5)
    checks = _checks(instance)
    assert checks["contact_counts_reconcile"][0]
    meta = checks["contact_counts_reconcile"][1]
    assert meta["identifier_fields"] == meta["linked"] + meta["rejected"]
    assert meta["rejected"] > 0  # the generator's ~1% invalid values
    assert checks["no_raw_dii_in_derived_tables"][0]

    # A raw email smuggled into a derived table, and a lost link.
    query("UPDATE dii_rejects SET reason = 'leak: jane.doe@example.com' WHERE rowid = 0")
    query("DELETE FROM contact_identities WHERE rowid = 0")
    checks = _checks(instance)
    passed, findings = checks["no_raw_dii_in_derived_tables"]
    assert not passed
    assert findings["findings"] == {"dii_rejects.reason": 1}
    assert "jane.doe" not in str(findings)
    passed, meta = checks["contact_counts_reconcile"]
    assert not passed and meta["unaccounted"] == 1
