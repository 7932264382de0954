"""The command line as a new user meets it: help with defaults, type inference in `hash`,
region validation, error codes the README documents, sandboxes that print client settings."""

import argparse
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from uid2_client import IdentityMapV3Client, IdentityMapV3Input

from identity_pipeline import settings
from identity_pipeline.cli import build_parser
from identity_pipeline.sandboxes import id5 as id5_sandbox
from identity_pipeline.sandboxes import uid2 as uid2_sandbox

PROJECT = Path(__file__).resolve().parents[1]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identity_pipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def every_parser() -> dict[str, argparse.ArgumentParser]:
    main = build_parser()
    commands = next(a for a in main._actions if isinstance(a, argparse._SubParsersAction))
    parsers = {f"identity-pipeline {name}": p for name, p in commands.choices.items()}
    parsers["identity-pipeline sandbox uid2"] = uid2_sandbox._parser()
    parsers["identity-pipeline sandbox id5"] = id5_sandbox._parser()
    return parsers


@pytest.mark.parametrize("name", sorted(every_parser()))
def test_every_option_has_help_and_shows_its_default(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: no wrapping inside a value
    parser = every_parser()[name]
    text = parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name} {label} has no help text"
        if not action.option_strings:
            continue
        if action.default is None:
            # "Not given" is described in words: what happens then, or that it is required.
            assert "default" in action.help or "required" in action.help, f"{name} {label}"
        else:
            assert f"(default: {action.default})" in text, f"{name} {label} hides its default"


def hash_rows(tmp_path: Path, content: str, *args: str) -> list[dict[str, str]]:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(content)
    result = run("hash", str(source), str(target), *args)
    assert result.returncode == 0, result.stderr
    with target.open() as handle:
        return list(csv.DictReader(handle))


def test_hash_types_values_by_the_column_name(tmp_path: Path) -> None:
    rows = hash_rows(tmp_path, "email\nnot-an-email\nA@B.com\n", "--column", "email")
    assert [(r["dii_type"], r["error"]) for r in rows] == [
        ("email", "email_invalid"),
        ("email", ""),
    ]
    rows = hash_rows(tmp_path, "phone\na@b.com\n+14155550100\n")
    assert [(r["dii_type"], r["error"]) for r in rows] == [
        ("phone", "phone_unparseable"),
        ("phone", ""),
    ]
    # Any other column: each value by itself; an explicit --type always wins.
    rows = hash_rows(tmp_path, "value\nnot-an-email\na@b.com\n")
    assert [r["dii_type"] for r in rows] == ["phone", "email"]
    rows = hash_rows(tmp_path, "email\n+14155550100\n", "--type", "phone")
    assert [(r["dii_type"], r["error"]) for r in rows] == [("phone", "")]


def test_hash_rejects_a_region_phonenumbers_does_not_know(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("phone\n(415) 555-0100\n")
    result = run("hash", str(source), str(tmp_path / "out.csv"), "--default-region", "XX")
    assert result.returncode == 2
    assert "--default-region: 'XX' is not a region phonenumbers knows" in result.stderr
    assert not (tmp_path / "out.csv").exists()
    bad_env = run(
        "hash", str(source), str(tmp_path / "out.csv"), IDENTITY_PIPELINE_DEFAULT_REGION="zz"
    )
    assert bad_env.returncode == 2
    assert "$IDENTITY_PIPELINE_DEFAULT_REGION: 'zz' is not a region" in bad_env.stderr
    # Any case; UK reads as GB, as contact files' country column does.
    rows = hash_rows(tmp_path, "phone\n020 7946 0018\n", "--default-region", " uk ")
    assert [(r["normalized"], r["error"]) for r in rows] == [("+442079460018", "")]


def test_region_codes_are_validated_where_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings.region_code("de") == "DE"
    assert settings.region_code("EL") == "GR"
    with pytest.raises(ValueError, match="'XX' is not a region"):
        settings.region_code("XX")
    monkeypatch.setenv(settings.ENV_DEFAULT_REGION, "XX")
    with pytest.raises(ValueError, match=r"\$IDENTITY_PIPELINE_DEFAULT_REGION: 'XX'"):
        settings.default_region()


def test_every_error_code_hash_emits_is_in_the_readme(tmp_path: Path) -> None:
    rows = hash_rows(tmp_path, "phone\nabc\n123456\n\n+6834002\n")
    rows += hash_rows(tmp_path, "email\nnot-an-email\n")
    emitted = {r["error"] for r in rows} - {""}
    assert emitted == {
        "phone_unparseable",
        "phone_invalid",
        "value_missing",
        "phone_too_short_for_uid2",
        "email_invalid",
    }
    readme = (PROJECT / "README.md").read_text()
    hash_section = readme[readme.index("`hash` lets you check") :]
    hash_section = hash_section[: hash_section.index("\n## ")]
    for code in emitted:
        assert f"`{code}`" in hash_section, f"README does not explain {code}"


def start_sandbox(service: str) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "identity_pipeline.cli", "sandbox", service, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip().removeprefix("listening on ")
    exports = process.stdout.readline().strip()
    match = re.fullmatch(r"client settings \(sandbox values, not secrets\): export (.*)", exports)
    assert match, exports
    values = dict(pair.split("=", 1) for pair in match.group(1).split())
    return process, url, values


def test_sandboxes_print_the_settings_a_client_needs() -> None:
    uid2, url, values = start_sandbox("uid2")
    try:
        assert values["UID2_BASE_URL"] == url
        # The printed values are enough for the official SDK to map an email.
        client = IdentityMapV3Client(url, values["UID2_API_KEY"], values["UID2_SECRET_KEY"])
        answer = client.generate_identity_map(IdentityMapV3Input.from_emails(["a@example.com"]))
        assert len(answer.mapped_identities) + len(answer.unmapped_identities) == 1
    finally:
        uid2.terminate()
        uid2.wait(timeout=30)
    id5, url, values = start_sandbox("id5")
    try:
        assert values["ID5_BASE_URL"] == url
        response = requests.post(
            f"{url}/partners/v1/{values['ID5_PARTNER_ID']}/signals",
            params={"token": values["ID5_TOKEN"]},
            json={"users": [{"email_sha256": "a" * 64}]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    finally:
        id5.terminate()
        id5.wait(timeout=30)
