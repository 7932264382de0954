"""`identity-pipeline generate` and `identity-pipeline hash` as a user runs them."""

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import phonenumbers
import pytest
from uid2_client.input_util import normalize_and_hash_email

pytestmark = pytest.mark.integration


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_generate_is_deterministic_per_seed_and_messy(tmp_path: Path):
    for out, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        result = cli("generate", "--rows", "4000", "--out", str(tmp_path / out), "--seed", seed)
        assert result.returncode == 0, result.stderr
    assert digest(tmp_path / "a" / "contacts") == digest(tmp_path / "b" / "contacts")
    assert digest(tmp_path / "a" / "contacts") != digest(tmp_path / "c" / "contacts")
    names = sorted(p.suffix for p in (tmp_path / "a" / "contacts").iterdir())
    assert names == [".csv", ".parquet"]

    rows = duckdb.sql(
        f"""
        SELECT * FROM read_csv('{tmp_path}/a/contacts/*.csv', all_varchar=true)
        UNION ALL BY NAME SELECT * FROM read_parquet('{tmp_path}/a/contacts/*.parquet')
        """
    ).fetchall()
    assert len(rows) == 4000
    customer_id, email, phone, country, updated_at = zip(*rows, strict=True)
    emails = [e for e in email if e]
    assert any(e != e.strip() for e in emails)  # surrounding spaces
    assert any(e != e.lower() for e in emails)  # mixed case
    assert any("+" in e.split("@")[0] and "gmail" in e.lower() for e in emails)  # gmail +tags
    invalid = sum(normalize_or_none(e) is None for e in emails)
    assert 0.003 < invalid / len(emails) < 0.03  # about 1% invalid
    assert len(set(customer_id)) < len(customer_id)  # the same people again
    national = [
        (p, c) for p, c in zip(phone, country, strict=True) if p and p.startswith(("(", "0"))
    ]
    assert len(national) > 400
    valid = sum(
        phonenumbers.is_valid_number(phonenumbers.parse(p, c.strip().upper())) for p, c in national
    )
    assert valid == len(national)  # national formats are real numbers in their country
    assert all(u and u.startswith("202") for u in updated_at)


def normalize_or_none(value: str) -> str | None:
    try:
        return normalize_and_hash_email(value)
    except ValueError:
        return None


def test_hash_command_one_row_per_input_in_order(tmp_path: Path):
    values = [" A.B@GMail.com", "not an email", "", "(415) 234-5678", "+12345678901", "x@y.z"]
    source = tmp_path / "in.csv"
    source.write_text("value\n" + "\n".join(f'"{v}"' for v in values) + "\n", encoding="utf-8")
    result = cli("hash", str(source), str(tmp_path / "out.parquet"))
    assert result.returncode == 0, result.stderr
    out = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path}/out.parquet')")
    assert out.columns == ["value", "dii_type", "normalized", "uid2_hash", "id5_hash", "error"]
    rows = out.fetchall()
    assert [r[0] for r in rows] == [v or None for v in values]
    assert rows[0][2] == "ab@gmail.com" and rows[0][3] == normalize_and_hash_email(values[0])
    assert rows[0][4] == hashlib.sha256(b"ab@gmail.com").hexdigest()
    assert rows[1][5] == "phone_unparseable"  # no '@': treated as a phone when --type is not given
    assert rows[3][2] == "+14152345678" and rows[3][4] is None and rows[3][5] == ""
    assert rows[5][5] == ""


def test_hash_command_typed_column_csv_out(tmp_path: Path):
    source = tmp_path / "in.parquet"
    duckdb.sql("SELECT * FROM (VALUES ('C1', 'a@b.com'), ('C2', 'bad')) t(id, mail)").write_parquet(
        str(source)
    )
    result = cli(
        "hash", str(source), str(tmp_path / "out.csv"), "--column", "mail", "--type", "email"
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "value,dii_type,normalized,uid2_hash,id5_hash,error"
    assert lines[2].endswith(",email_invalid") and len(lines) == 3


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("value\na@b.com\n", ["--column", "email"], "column 'email' not found"),
        (None, [], "no such file"),
        (b"value\n\xff\xfe@b.com\n", [], "not UTF-8"),
    ],
)
def test_hash_command_errors_are_clear(tmp_path: Path, setup, args, message):
    source = tmp_path / "in.csv"
    if isinstance(setup, str):
        source.write_text(setup)
    elif isinstance(setup, bytes):
        source.write_bytes(setup)
    result = cli("hash", str(source), str(tmp_path / "out.csv"), *args)
    assert result.returncode == 2
    assert message in result.stderr and "in.csv" in result.stderr
    assert "@b.com" not in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_hash_command_keeps_input_order_across_row_groups(tmp_path: Path):
    """Many row groups on two threads, phones that need phonenumbers mixed in: order holds.

    The output is streamed from the input without a sort, so this is the test that fails if a
    join or a parallel step ever reorders rows.
    """
    source = tmp_path / "in.parquet"
    duckdb.sql(
        f"""
        COPY (
            SELECT CASE WHEN i % 997 = 0
                        THEN '(415) 234-' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0')
                        WHEN i % 101 = 0 THEN 'broken' || i
                        ELSE ' User.' || i || '+tag@GMail.com ' END AS value
            FROM range(300000) t(i)
        ) TO '{source}' (FORMAT parquet, ROW_GROUP_SIZE 20000)
        """
    )
    result = cli("hash", str(source), str(tmp_path / "out.parquet"))
    assert result.returncode == 0, result.stderr
    rows = duckdb.sql(
        f"SELECT value, normalized, error FROM read_parquet('{tmp_path}/out.parquet')"
    ).fetchall()
    inputs = [r[0] for r in duckdb.sql(f"SELECT value FROM read_parquet('{source}')").fetchall()]
    assert [r[0] for r in rows] == inputs
    phones = [r for i, r in enumerate(rows) if i % 997 == 0]
    assert all(r[1] == "+1415234" + r[0][-4:] and r[2] == "" for r in phones)
    emails = [r for i, r in enumerate(rows) if i % 997 and i % 101]
    assert all(r[1] == f"user{i}@gmail.com" for i, r in enumerate(rows) if i % 997 and i % 101)
    invalid = sum(1 for r in rows if r[2])
    assert len(emails) + len(phones) + invalid == 300000
    assert f"300000 rows: {300000 - invalid} valid, {invalid} invalid" in result.stdout


def test_hash_command_rejects_a_corrupt_parquet_file(tmp_path: Path):
    source = tmp_path / "in.parquet"
    source.write_bytes(b"PAR1" + b"jane@example.com" * 100 + b"PAR1")
    result = cli("hash", str(source), str(tmp_path / "out.parquet"))
    assert result.returncode == 2
    assert "in.parquet" in result.stderr and "unreadable" in result.stderr
    assert "jane@example.com" not in result.stderr
    assert not (tmp_path / "out.parquet").exists()
