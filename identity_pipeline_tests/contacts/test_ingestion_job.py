"""Contact ingestion through the real Dagster job, a real DuckDB file and real files."""

from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from identity_pipeline.definitions import defs
from identity_pipeline.dev.generate_contacts import generate_contacts

pytestmark = pytest.mark.integration

SECRET_EMAIL = "very.private.person@example.com"


def run_ingest(instance: DagsterInstance):
    result = defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance)
    assert result.success
    return result


def query(workspace: Path, sql: str):
    with duckdb.connect(str(workspace / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_counts(workspace: Path) -> dict[str, int]:
    tables = ["raw_contacts", "contact_identities", "dii", "customer_dii", "dii_rejects"]
    return {t: query(workspace, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def metadata(result, key: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == key:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of {key}")


def write_csv(workspace: Path, name: str, text: str | bytes) -> Path:
    path = workspace / "landing" / "contacts" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_generated_files_ingest_and_rerun_adds_nothing(workspace: Path, instance: DagsterInstance):
    generate_contacts(3_000, workspace / "landing", seed=7)
    first = run_ingest(instance)
    counts = table_counts(workspace)
    assert counts["raw_contacts"] == 3_000
    assert counts["dii"] > 2_000
    assert metadata(first, "raw_contacts")["files_loaded"] == 2

    second = run_ingest(instance)
    assert table_counts(workspace) == counts
    assert metadata(second, "raw_contacts")["files_loaded"] == 0
    assert metadata(second, "raw_contacts")["files_unchanged"] == 2
    assert metadata(second, "dii")["new_identities"] == 0

    # one distinct row per identity, every link points at a real identity
    assert query(workspace, "SELECT count(*) - count(DISTINCT uid2_hash) FROM dii")[0][0] == 0
    orphan = "SELECT count(*) FROM customer_dii c ANTI JOIN dii d USING (dii_id)"
    assert query(workspace, orphan)[0][0] == 0
    # every identifier value either links or is rejected
    values = query(
        workspace,
        "SELECT count(*) FILTER (WHERE nullif(trim(email), '') IS NOT NULL) "
        "+ count(*) FILTER (WHERE nullif(trim(phone), '') IS NOT NULL) FROM raw_contacts",
    )[0][0]
    linked = query(workspace, "SELECT count(*) FROM contact_identities")[0][0]
    rejected = query(
        workspace, "SELECT count(*) FROM dii_rejects WHERE field IN ('email', 'phone')"
    )[0][0]
    assert values == linked + rejected


def test_same_person_spelled_differently_is_one_identity(
    workspace: Path, instance: DagsterInstance
):
    write_csv(
        workspace,
        "a.csv",
        "customer_id,email,phone,country\n"
        "C1, Jane.Doe@GMail.com ,(415) 234-5678,US\n"
        "C1,janedoe+shop@gmail.com,+14152345678,\n",
    )
    write_csv(workspace, "b.csv", "customer_id,email\nC2,JANEDOE@gmail.com\n")
    run_ingest(instance)
    rows = query(workspace, "SELECT dii_type, source_count FROM dii ORDER BY dii_type")
    assert rows == [("email", 3), ("phone", 2)]
    links = query(workspace, "SELECT customer_id, count(*) FROM customer_dii GROUP BY 1 ORDER BY 1")
    assert links == [("C1", 2), ("C2", 1)]


def test_changed_file_is_reread_and_replaces_its_rows(workspace: Path, instance: DagsterInstance):
    path = write_csv(workspace, "a.csv", "customer_id,email\nC1,a@x.com\nC2,b@x.com\n")
    run_ingest(instance)
    path.write_text("customer_id,email\nC1,a@x.com\nC3,c@x.com\nC4,d@x.com\n", encoding="utf-8")
    result = run_ingest(instance)
    assert metadata(result, "raw_contacts")["files_loaded"] == 1
    assert query(workspace, "SELECT count(*) FROM raw_contacts")[0][0] == 3
    assert query(workspace, "SELECT count(*) FROM dii")[0][0] == 4  # b@x.com is kept, unseen now
    assert query(workspace, "SELECT count(*) FROM dii WHERE source_count = 0")[0][0] == 1
    assert query(workspace, "SELECT count(*) FROM customer_dii WHERE customer_id = 'C2'")[0][0] == 0


BAD_FILES = {
    "missing_column.csv": (
        "customer_id,phone_number\nC9,+14152345678\n",
        "missing column(s): email or phone",
    ),
    "semicolons.csv": (f"customer_id;email\nC9;{SECRET_EMAIL}\n", "semicolon-delimited"),
    "empty.csv": ("", "empty file"),
    "no_header.csv": (f"C9,{SECRET_EMAIL}\n", "is the header row missing"),
    "broken.parquet": ("PAR1 this is not parquet", "unreadable"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_fail_clearly_and_leave_dii_intact(
    workspace: Path, instance: DagsterInstance, name: str, capsys: pytest.CaptureFixture[str]
):
    write_csv(workspace, "good.csv", "customer_id,email\nC1,a@x.com\n")
    run_ingest(instance)
    before = query(workspace, "SELECT * FROM dii ORDER BY dii_id")

    content, expected = BAD_FILES[name]
    write_csv(workspace, name, content)
    result = defs.resolve_job_def("ingest_contacts").execute_in_process(instance=instance)
    assert result.success  # good data keeps flowing; the failed file is reported
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["contact_files_readable"].passed is False
    details = checks["contact_files_readable"].metadata["details"].value
    assert name in details and expected in details
    assert query(workspace, "SELECT * FROM dii ORDER BY dii_id") == before
    status = query(workspace, f"SELECT status, error FROM contact_files WHERE file_path = '{name}'")
    assert status[0][0] == "failed" and expected in status[0][1]
    # no raw value anywhere: logs, metadata, stored errors
    out = capsys.readouterr()
    assert SECRET_EMAIL not in out.out + out.err
    assert SECRET_EMAIL not in str(status)
    assert all(SECRET_EMAIL not in str(m) for m in metadata(result, "raw_contacts").values())


def test_non_utf8_and_huge_rows_become_row_rejects(workspace: Path, instance: DagsterInstance):
    huge = "x" * (10 * 1024 * 1024) + "@example.com"
    write_csv(
        workspace,
        "mixed.csv",
        b"customer_id,email\nC1,a@x.com\nC2,\xff\xfebad@x.com\nC3,b@x.com\n"
        + f"C4,{huge}\nC5,c@x.com\n".encode(),
    )
    run_ingest(instance)
    emails = query(workspace, "SELECT count(*) FROM dii WHERE dii_type = 'email'")[0][0]
    assert emails == 3
    rejects = query(
        workspace,
        "SELECT row_number, field, reason, length(fingerprint) FROM dii_rejects ORDER BY 1",
    )
    assert rejects == [(2, "email", "not_utf8", 64), (4, "email", "value_too_long", 64)]
    rows = query(workspace, "SELECT customer_id, row_number FROM raw_contacts ORDER BY row_number")
    assert rows == [("C1", 1), ("C3", 3), ("C4", 4), ("C5", 5)]


def test_fingerprints_are_salted_and_stable(workspace: Path, instance: DagsterInstance):
    write_csv(workspace, "a.csv", "customer_id,email\nC1,not-an-email\nC2,not-an-email\n")
    run_ingest(instance)
    prints = query(workspace, "SELECT DISTINCT fingerprint FROM dii_rejects")
    assert len(prints) == 1
    import hashlib

    assert prints[0][0] != hashlib.sha256(b"not-an-email").hexdigest()
