"""The events generator: seed 003 shape, deterministic, the same rows for any file split."""

from pathlib import Path

import duckdb
import pytest

from identity_pipeline.dev.events import generate_events
from identity_pipeline.landing.readers import EVENT_FIELDS

COLUMNS = list(EVENT_FIELDS)


def _read(paths: tuple[Path, ...]) -> list[tuple]:
    con = duckdb.connect()
    rows: list[tuple] = []
    for path in paths:
        if path.suffix == ".parquet":
            source = f"read_parquet('{path}')"
        else:
            source = f"read_json('{path}', format = 'newline_delimited', columns = {{"
            source += ", ".join(
                f"'{c}': '{'JSON' if c == 'valuation_properties' else 'VARCHAR'}'" for c in COLUMNS
            )
            source += "})"
        rows += con.execute(
            f"SELECT {', '.join(COLUMNS[:-1])}, CAST(valuation_properties AS VARCHAR) FROM {source}"
        ).fetchall()
    return rows


def test_same_events_for_any_split_and_format(tmp_path: Path):
    one = generate_events(3000, tmp_path / "a", events_per_file=3000, formats=("parquet",))
    many = generate_events(
        3000, tmp_path / "b", events_per_file=700, formats=("jsonl", "jsonl.gz", "parquet")
    )
    assert [p.name for p in many.paths][:3] == [
        "events_seed42_0000.jsonl",
        "events_seed42_0001.jsonl.gz",
        "events_seed42_0002.parquet",
    ]
    assert _read(one.paths) == _read(many.paths)
    other_seed = generate_events(3000, tmp_path / "c", seed=7, formats=("parquet",))
    assert _read(other_seed.paths) != _read(one.paths)


def test_events_look_like_seed_003_traffic(tmp_path: Path):
    files = generate_events(60_000, tmp_path, formats=("parquet",))
    con = duckdb.connect()
    con.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet('{tmp_path}/events/*.parquet')")

    def one(sql: str):
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0]

    assert files.events == one("SELECT count(*) FROM ev") == 60_000
    assert one("SELECT count(DISTINCT event_id) FROM ev") == 60_000
    assert one("SELECT count(*) FROM ev WHERE anonymous_id IS NULL AND email IS NULL") == 0
    assert one("SELECT count(*) FROM ev WHERE anonymous_id IS NULL") > 0  # app logins, email only
    assert set(con.execute("SELECT DISTINCT platform FROM ev").fetchall()) == {
        ("web",),
        ("ios",),
        ("android",),
    }
    # QA values, a call centre's phone and click IDs of both kinds
    for qa in ("anonymous", "null", "-1"):
        assert one(f"SELECT count(*) FROM ev WHERE anonymous_id = '{qa}'") > 0
    assert one("SELECT count(*) FROM ev WHERE email = 'test@test.com'") > 0
    assert one("SELECT count(*) FROM ev WHERE phone = '0000000000'") > 0
    assert one("SELECT count(DISTINCT email) FROM ev WHERE phone = '+18005550199'") > 20
    assert one("SELECT count(*) FROM ev WHERE fbclid LIKE 'IwAR%'") > 0
    assert one("SELECT count(*) FROM ev WHERE gclid IS NOT NULL") > 0
    assert one("SELECT count(*) FROM ev WHERE gaclid IS NOT NULL") > 0
    # messy spellings of the same addresses, family emails shared by several devices
    assert one("SELECT count(*) FROM ev WHERE email <> lower(trim(email))") > 0
    assert one("SELECT count(*) FROM ev WHERE email LIKE '%+shop@gmail.com'") > 0
    assert (
        one(
            "SELECT max(n) FROM (SELECT count(DISTINCT anonymous_id) AS n FROM ev "
            "WHERE email LIKE 'the.family.%' GROUP BY email)"
        )
        > 1
    )
    # people use several devices: some emails are seen with several anonymous ids
    assert (
        one(
            "SELECT count(*) FROM (SELECT lower(trim(email)) FROM ev WHERE email IS NOT NULL "
            "AND anonymous_id NOT IN ('anonymous', 'null', '-1') GROUP BY 1 "
            "HAVING count(DISTINCT anonymous_id) > 1)"
        )
        > 100
    )
    purchases = con.execute(
        """
        SELECT json_extract_string(valuation_properties, '$.properties.currency') AS currency,
               count(*), min(CAST(json_extract(valuation_properties, '$.properties.value')
                                  AS DOUBLE))
        FROM ev WHERE json_extract_string(valuation_properties, '$.action') = 'purchase'
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert [c for c, _, _ in purchases] == ["EUR", "GBP", "USD"]
    assert all(n > 0 and low > 0 for _, n, low in purchases)
    actions = {
        a
        for (a,) in con.execute(
            "SELECT DISTINCT json_extract_string(valuation_properties, '$.action') FROM ev"
        ).fetchall()
    }
    assert {"pageview", "add_to_cart", "purchase", "login"} <= actions


def test_rejects_bad_arguments(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 1"):
        generate_events(0, tmp_path)
    with pytest.raises(ValueError, match="formats"):
        generate_events(10, tmp_path, formats=("csv",))  # type: ignore[arg-type]


def test_crm_customers_visit_with_their_crm_email_and_phone(tmp_path: Path):
    from identity_pipeline.dev.generate_contacts import generate_contacts

    generate_contacts(4000, tmp_path, seed=5)
    generate_events(20_000, tmp_path, seed=5, formats=("parquet",), contacts_rows=4000)
    con = duckdb.connect()
    con.execute(
        f"""
        CREATE VIEW crm AS
        SELECT email, phone FROM read_csv('{tmp_path}/contacts/*.csv', all_varchar = true)
        UNION ALL SELECT email, phone FROM read_parquet('{tmp_path}/contacts/*.parquet');
        CREATE VIEW ev AS SELECT * FROM read_parquet('{tmp_path}/events/*.parquet');
        """
    )

    def one(sql: str) -> int:
        row = con.execute(sql).fetchone()
        assert row is not None
        return int(row[0])

    crm_emails = "SELECT lower(trim(email)) FROM crm WHERE email IS NOT NULL"
    known = one(
        "SELECT count(DISTINCT lower(trim(email))) FROM ev "
        f"WHERE lower(trim(email)) IN ({crm_emails})"
    )
    visitors = one("SELECT count(DISTINCT lower(trim(email))) FROM ev")
    assert 0.15 * visitors < known < 0.85 * visitors  # customers and web-only visitors
    crm_phones = "SELECT phone FROM crm WHERE phone LIKE '+%'"
    assert one(f"SELECT count(DISTINCT phone) FROM ev WHERE phone IN ({crm_phones})") > 10
    # still the same events without the CRM people, and deterministic with them
    again = generate_events(
        20_000, tmp_path / "again", seed=5, formats=("parquet",), contacts_rows=4000
    )
    assert _read(again.paths) == _read(tuple(sorted((tmp_path / "events").iterdir())))
