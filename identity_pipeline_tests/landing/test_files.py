"""landing.files.loaded_files: the per-file loop every landing folder shares, on real files and
a real DuckDB connection."""

from functools import partial
from pathlib import Path

import duckdb

from identity_pipeline.landing.files import ChangedFile, FileReport, loaded_files, unread_files
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
