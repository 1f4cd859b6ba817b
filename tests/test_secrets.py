"""No credential in the tree or its history, and none in a log line."""

from __future__ import annotations

import logging
import re
import subprocess

import pytest

from hrdata.api.logs import JsonFormatter
from hrdata.redact import redact
from tests.support.paths import ROOT

# Tests that need a password in a URL use this one; anything else in that place is a finding.
FAKE_PASSWORD = "not-the-password"

# Built from pieces, so this file does not match itself.
KEY_SHAPES = {
    "hrdata API key": re.compile("hrd" + r"_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}"),
    "AWS access key id": re.compile("AK" + r"IA[0-9A-Z]{16}"),
    "private key": re.compile("-----BEGIN [A-Z ]*PRIVATE" + " KEY-----"),
    "password in a URL": re.compile(
        r"\b(?:postgres(?:ql)?|https?|s3|redis|amqp)://[A-Za-z0-9_.-]+:"
        r"(?!\$|\[redacted\]|\{|<|" + FAKE_PASSWORD + r"@)[^\s@/\"']+@"
    ),
    "AWS secret key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{30,}"),
}


def findings(text: str) -> list[str]:
    return [name for name, shape in KEY_SHAPES.items() if shape.search(text)]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True, errors="replace"
    ).stdout


def test_no_file_of_the_tree_holds_a_credential() -> None:
    files = git("ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    found = {}
    for name in files:
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 5 << 20:
            hits = findings(path.read_text(errors="replace"))
            if hits:
                found[name] = hits

    assert {} == found


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_commit_in_the_history_ever_held_a_credential() -> None:
    history = git("log", "--all", "-p", "--no-color", "--no-ext-diff")

    assert [] == findings(history)


def test_the_scan_recognises_each_shape() -> None:
    samples = [
        "token " + "hrd" + "_0123456789ab_" + "x" * 40,
        "AK" + "IA" + "ABCDEFGHIJKLMNOP",
        "-----BEGIN RSA PRIVATE" + " KEY-----",
        "postgresql://hrdata:" + "s3cr3t" + "@db:5432/hrdata",
        "aws_secret_access_key = " + "A" * 40,
    ]

    assert [[name] for name in KEY_SHAPES] == [findings(s) for s in samples]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key hrd" + "_0123456789ab_" + "s" * 43 + " used", "s" * 43),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("connecting to postgresql://hrdata:" + "pa55word" + "@db:5432/x", "pa55word"),
        (
            "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKID%2F2021&X-Amz-Signature=f00d"
            "&X-Amz-Security-Token=tok",
            "f00d",
        ),
        ("aws_secret_access_key = abcdEFGH1234", "abcdEFGH1234"),
    ],
)
def test_log_lines_never_carry_a_credential(text: str, secret: str) -> None:
    record = logging.makeLogRecord({"msg": text, "levelno": logging.INFO, "levelname": "INFO"})
    record.detail = text  # an extra field, as structured logs carry

    line = JsonFormatter().format(record)

    assert secret not in line
    assert "[redacted]" in line


def test_redaction_keeps_the_key_id_to_tell_keys_apart() -> None:
    assert "hrd_0123456789ab_[redacted]" == redact("hrd" + "_0123456789ab_" + "z" * 43)


def test_a_url_without_a_password_is_left_alone() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"

    assert url == redact(url)
