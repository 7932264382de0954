"""landing.files: the per-file loop every landing folder shares and the ledger row it keeps per
file, on real files and a real DuckDB connection."""

from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import (
    ChangedFile,
    FileReport,
    loaded_files,
    record_file,
    unread_files,
)
from identity_pipeline.landing.readers import require_columns


def test_yields_good_files_and_records_each_unusable_one_once(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    folder.mkdir()
    (folder / "a_good.csv").write_text("id,name\n1,x\n2,y\n", encoding="utf-8")
    (folder / "b_no_id.csv").write_text("name\nz\n", encoding="utf-8")
    (folder / "c_empty.csv").write_bytes(b"")
    con = duckdb.connect()
    con.execute("CREATE TABLE thing_files (file_path VARCHAR PRIMARY KEY, checksum VARCHAR)")
    report = FileReport()
    failures: list[tuple[str, str]] = []

    def record_failure(file: ChangedFile, reason: str) -> None:
        failures.append((file.rel, reason))

    check = partial(require_columns, required=("id",))
    loaded = [
        (file.rel, got.table, got.columns, got.row_count)
        for file, got in loaded_files(
            con,
            unread_files(con, "thing_files", folder, report),
            report,
            "tf",
            check,
            record_failure,
            label="things/",
        )
    ]

    assert loaded == [("a_good.csv", "tf_file", ("id", "name"), 2)]
    assert [rel for rel, _ in failures] == ["b_no_id.csv", "c_empty.csv"]
    assert "missing column(s): id" in failures[0][1]
    assert failures[1][1] == "empty file (0 bytes)"
    assert report.files_failed == [f"things/{rel}: {reason}" for rel, reason in failures]
    assert report.files_seen == 3


def test_record_file_upserts_the_ledger_row_and_a_failure_keeps_unnamed_columns() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE thing_files (kind VARCHAR, file_path VARCHAR, checksum VARCHAR NOT NULL, "
        "size_bytes BIGINT, status VARCHAR NOT NULL, error VARCHAR, row_count BIGINT, "
        "seen_at TIMESTAMP NOT NULL, PRIMARY KEY (kind, file_path))"
    )
    first = ChangedFile(Path("/x/a.csv"), "a.csv", "c1", 10)
    second = ChangedFile(Path("/x/a.csv"), "a.csv", "c2", 12)
    t1, t2 = datetime(2026, 1, 1, 1), datetime(2026, 1, 2, 1)
    key = {"kind": "k"}
    record_file(con, "thing_files", first, t1, key=key, size_bytes=10, row_count=3)
    record_file(con, "thing_files", first, t1, key={"kind": "other"}, row_count=1)
    record_file(con, "thing_files", second, t2, error="bad header", key=key, size_bytes=12)

    rows = con.execute("SELECT * FROM thing_files ORDER BY kind").fetchall()
    assert rows == [
        ("k", "a.csv", "c2", 12, "failed", "bad header", 3, t2),
        ("other", "a.csv", "c1", None, "loaded", None, 1, t1),
    ]
    record_file(con, "thing_files", second, t2, key=key, row_count=None)
    assert con.execute(
        "SELECT status, error, row_count FROM thing_files WHERE kind = 'k'"
    ).fetchall() == [("loaded", None, None)]
