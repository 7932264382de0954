"""landing.files: the per-file loop every landing folder shares and the ledger row it keeps per
file, on real files and a real DuckDB connection."""

from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import (
    ChangedFile,
    FileReport,
    Ledger,
    loaded_files,
)
from identity_pipeline.landing.readers import require_columns

THINGS_DDL = (
    "CREATE TABLE thing_files (kind VARCHAR, file_path VARCHAR, checksum VARCHAR NOT NULL, "
    "size_bytes BIGINT, status VARCHAR NOT NULL, error VARCHAR, row_count BIGINT, "
    "seen_at TIMESTAMP NOT NULL, PRIMARY KEY (kind, file_path))"
)


def test_yields_good_files_and_records_each_unusable_one_once(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    folder.mkdir()
    (folder / "a_good.csv").write_text("id,name\n1,x\n2,y\n", encoding="utf-8")
    (folder / "b_no_id.csv").write_text("name\nz\n", encoding="utf-8")
    (folder / "c_empty.csv").write_bytes(b"")
    con = duckdb.connect()
    con.execute(THINGS_DDL)
    ledger = Ledger("thing_files", key={"kind": "k"}, records_size=True)
    report = FileReport()
    now = datetime(2026, 1, 1, 1)

    check = partial(require_columns, required=("id",))
    loaded = [
        (file.rel, got.columns, got.row_count, con.execute("SELECT * FROM tf_file").fetchall())
        for file, got in loaded_files(
            con, ledger, folder, report, "tf", check, now, label="things/"
        )
    ]

    # each good file is yielded while its rows are in the scratch table {scratch}_file
    assert loaded == [("a_good.csv", ("id", "name"), 2, [(1, "1", "x"), (2, "2", "y")])]
    failures = con.execute(
        "SELECT file_path, status, error, size_bytes, seen_at FROM thing_files ORDER BY 1"
    ).fetchall()
    assert [(f[0], f[1], f[4]) for f in failures] == [
        ("b_no_id.csv", "failed", now),
        ("c_empty.csv", "failed", now),
    ]
    assert "missing column(s): id" in failures[0][2]
    assert failures[1][2] == "empty file (0 bytes)"
    assert failures[0][3] == (folder / "b_no_id.csv").stat().st_size
    assert report.files_failed == [f"things/{f[0]}: {f[2]}" for f in failures]
    assert report.files_seen == 3

    # the next pass reads only what the ledger has not read as it is now: the loop records
    # failures; a loaded file is recorded by its domain (not here), so it comes again
    again = FileReport()
    assert [f.rel for f, _ in loaded_files(con, ledger, folder, again, "tf", check, now)] == [
        "a_good.csv"
    ]
    assert (again.files_seen, again.files_unchanged, again.files_failed) == (3, 2, [])
    # another key's rows of the same table are another ledger
    other = FileReport()
    unread = Ledger("thing_files", key={"kind": "other"}).unread(con, folder, other)
    assert sorted(f.rel for f in unread) == ["a_good.csv", "b_no_id.csv", "c_empty.csv"]


def test_a_ledger_records_sizes_and_clears_its_columns_on_failure() -> None:
    con = duckdb.connect()
    con.execute(THINGS_DDL)
    ledger = Ledger("thing_files", key={"kind": "k"}, failure_clears=("row_count",))
    file = ChangedFile(Path("/x/a.csv"), "a.csv", "c1", 10)
    t1, t2 = datetime(2026, 1, 1, 1), datetime(2026, 1, 2, 1)
    ledger.record(con, file, t1, row_count=3, size_bytes=10)
    ledger.record(con, replace(file, checksum="c2", size=12), t2, error="bad header")
    assert con.execute("SELECT * FROM thing_files").fetchall() == [
        ("k", "a.csv", "c2", 10, "failed", "bad header", None, t2)
    ]
    sized = Ledger("thing_files", key={"kind": "s"}, records_size=True)
    sized.record(con, file, t1, row_count=1)
    assert con.execute("SELECT size_bytes FROM thing_files WHERE kind = 's'").fetchall() == [(10,)]


def test_a_ledger_upserts_its_row_and_a_failure_keeps_unnamed_columns() -> None:
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
    ledger = Ledger("thing_files", key=key)
    ledger.record(con, first, t1, size_bytes=10, row_count=3)
    Ledger("thing_files", key={"kind": "other"}).record(con, first, t1, row_count=1)
    ledger.record(con, second, t2, error="bad header", size_bytes=12)

    rows = con.execute("SELECT * FROM thing_files ORDER BY kind").fetchall()
    assert rows == [
        ("k", "a.csv", "c2", 12, "failed", "bad header", 3, t2),
        ("other", "a.csv", "c1", None, "loaded", None, 1, t1),
    ]
    ledger.record(con, second, t2, row_count=None)
    assert con.execute(
        "SELECT status, error, row_count FROM thing_files WHERE kind = 'k'"
    ).fetchall() == [("loaded", None, None)]
