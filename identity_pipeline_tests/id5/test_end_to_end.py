"""Contact file -> ingest_contacts -> id5_refresh, both from `defs` as the demo runs them."""

import logging
import os
from pathlib import Path

import pytest
from dagster import DagsterInstance

from identity_pipeline import settings
from identity_pipeline.definitions import defs
from identity_pipeline.dev.services import ID5_ENV, id5_service, id5_summary
from identity_pipeline.warehouse import connect
from identity_pipeline_tests.uid2.conftest import query

CONTACTS = """customer_id,email,country
c1,Alice.Smith@Example.com, nl
c2,bob.jones@example.org,
c3,carol+news@example.net,France
c4,dave@example.com,de
c5,not-an-email,US
c6,erin@example.co.uk, uk
"""
RAW = ["Alice.Smith@Example.com", "alice.smith@example.com", "bob.jones@example.org", "dave@"]


def test_demo_path_maps_contacts_with_their_country_and_logs_no_dii_or_token(
    workspace: Path,
    instance: DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in ID5_ENV:
        monkeypatch.delenv(name, raising=False)
    (workspace / "landing" / "contacts" / "crm.csv").write_text(CONTACTS)
    assert defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance).success
    with caplog.at_level(logging.DEBUG), id5_service() as described:
        assert described.startswith("ID5 sandbox http://127.0.0.1:")
        token = os.environ["ID5_TOKEN"]
        result = defs.resolve_job_def("id5_refresh").execute_in_process(instance=instance)
    assert result.success
    assert all(name not in os.environ for name in ID5_ENV)  # restored afterwards

    rows = query(
        "SELECT c.customer_id, m.status, m.country_alpha2, m.id5_uid IS NOT NULL "
        "FROM id5_mapping AS m JOIN customer_dii AS c USING (dii_id) ORDER BY 1"
    )
    # ' nl' and 'de' are sent upper-cased, ' uk' as ISO's GB; 'France' is not an alpha-2 code,
    # so ID5 says 'AA'.
    assert rows == [
        ("c1", "mapped", "NL", True),
        ("c2", "mapped", "AA", True),
        ("c3", "mapped", "AA", True),
        ("c4", "mapped", "DE", True),
        ("c6", "mapped", "GB", True),
    ]
    with connect(settings.database_path()) as con:
        assert id5_summary(con) == {"mapped": 5, "history_rows": 5}

    hashes = [h for (h,) in query("SELECT id5_hash FROM dii WHERE id5_hash IS NOT NULL")]
    logged = (
        caplog.text
        + "\n".join(str(r.user_message) for r in instance.all_logs(result.run_id))
        + str([e.event_specific_data for e in result.all_events])
    )
    assert "token=<redacted>" in caplog.text
    for secret in (token, *RAW, *hashes):
        assert secret not in logged
