"""warehouse.settings: DuckDB settings for a block, the connection's own values back after."""

from pathlib import Path

import duckdb
import pytest

from identity_pipeline.warehouse import settings


def _current(con: duckdb.DuckDBPyConnection, name: str) -> object:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    assert row is not None
    return row[0]


def test_settings_apply_inside_and_come_back_after_also_on_error(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    before = _current(con, "memory_limit")  # the default, restored exactly
    with settings(con, memory_limit="1GB", preserve_insertion_order=False):
        assert _current(con, "memory_limit") != before
        assert _current(con, "preserve_insertion_order") is False
    assert _current(con, "memory_limit") == before
    assert _current(con, "preserve_insertion_order") is True
    with pytest.raises(duckdb.CatalogException), settings(con, memory_limit="1GB"):
        con.execute("SELECT * FROM no_such_table")
    assert _current(con, "memory_limit") == before


def test_a_value_set_before_comes_back_as_duckdb_shows_it(tmp_path: Path) -> None:
    """Not the default: SET again from DuckDB's text, truncated to a tenth of a GiB."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET memory_limit = '3GB'")
    shown = str(_current(con, "memory_limit"))
    with settings(con, memory_limit="1GB"):
        assert _current(con, "memory_limit") != shown
    after = str(_current(con, "memory_limit"))
    assert shown.endswith(" GiB") and after.endswith(" GiB")
    assert 0 <= float(shown.split()[0]) - float(after.split()[0]) <= 0.1 + 1e-9
