"""`explain --offline --json`: the CONTRACTS §3 document, exact keys, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

MESSAGE = (
    "An error occurred (AccessDeniedException) when calling the PutItem operation: User: "
    "arn:aws:sts::111111111111:assumed-role/orders-role/orders is not authorized to perform: "
    "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:111111111111:table/orders "
    "because no identity-based policy allows the dynamodb:PutItem action"
)


def test_offline_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", MESSAGE, "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    document = json.loads(captured.out)
    assert document == {
        "parsed": {
            "principal": "arn:aws:sts::111111111111:assumed-role/orders-role/orders",
            "action": "dynamodb:PutItem",
            "resource": "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
            "decision": "implicit_deny",
            "policy_type": "identity",
            "policy_arn": None,
            "authorization_id": None,
        },
        "findings": [],
    }
    assert list(document["parsed"]) == [
        "principal", "action", "resource", "decision", "policy_type", "policy_arn",
        "authorization_id",
    ]  # fmt: skip


def test_not_an_access_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "Task timed out after 3.00 seconds", "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out) == {"parsed": None, "findings": []}
    assert "not an access error" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_not_an_access_error_text_mode_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["explain", "hello", "--offline"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(
        "The provided execution role does not have permissions to call ReceiveMessage on SQS\n"
    ))  # fmt: skip
    code = main(["explain", "-", "--offline", "--json"])
    parsed = json.loads(capsys.readouterr().out)["parsed"]
    assert code == 0
    assert parsed["action"] == "sqs:ReceiveMessage"
    assert parsed["principal"] is None


def test_empty_message_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "   ", "--offline"])
    assert code == 2
    assert "empty" in capsys.readouterr().err


def test_text_output_lists_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", MESSAGE, "--offline"])
    out = capsys.readouterr().out
    assert code == 0
    assert "dynamodb:PutItem" in out
    assert "implicit_deny" in out


_REAL2: list[dict[str, Any]] = [
    case
    for name in ("parser_cases_real2.json", "parser_cases_real3.json")
    for case in json.loads((Path(__file__).parent / "cases" / name).read_text(encoding="utf-8"))
]


@pytest.mark.parametrize("case", _REAL2, ids=[c["name"] for c in _REAL2])
def test_real_messages_through_the_cli(
    case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each real message through `explain --offline --json`: the contract fields as expected."""
    code = main(["explain", case["message"], "--offline", "--json"])
    captured = capsys.readouterr()
    parsed = json.loads(captured.out)["parsed"]
    if case["expect"] is None:
        assert (code, parsed) == (2, None)
        assert len(captured.err.strip().splitlines()) == 1
        return
    assert code == 0, captured.err
    for key, want in case["expect"].items():
        if key in parsed:
            assert parsed[key] == want, f"{key}: got {parsed[key]!r}, want {want!r}"


#: the installed entry point, run as its own process
_CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"]


def _no_aws_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no AWS credentials and no instance metadata to fall back on."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_online_without_credentials_exits_3_quickly(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [*_CLI, "explain", MESSAGE, "--json"],
        env=_no_aws_env(tmp_path),
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


def test_stdin_dash_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_CLI, "explain", "-", "--offline", "--json"],
        input=MESSAGE + "\n",
        env=_no_aws_env(tmp_path),
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["parsed"]["action"] == "dynamodb:PutItem"


def test_empty_message_with_json_prints_the_null_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["explain", "", "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out) == {"parsed": None, "findings": []}
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_non_utf8_stdin_in_a_real_process(tmp_path: Path, encoding: str) -> None:
    """Latin-1 / binary bytes on stdin: no traceback whatever the I/O encoding; the
    undecodable bytes end the ARN instead of joining it."""
    data = MESSAGE.replace("table/orders ", "table/orders\xff\xfe ").encode("latin-1")
    done = subprocess.run(
        [*_CLI, "explain", "-", "--offline"],
        input=data,
        env={**_no_aws_env(tmp_path), "PYTHONIOENCODING": encoding},
        cwd=Path(__file__).parents[2],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"arn:aws:dynamodb:us-east-1:111111111111:table/orders\n" in done.stdout


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000,  # json.loads would recurse past the limit
        "{" * 50_000 + "}" * 50_000,
        "\x00\x01\x02\x7f" * 10_000,
        "A" * 1_000_000,
        "x.amazonaws.com assume " * 40_000,  # a pattern that once backtracked quadratically
    ],
    ids=["open-brackets", "nested-braces", "control-bytes", "one-megabyte-word", "service-names"],
)
def test_odd_input_is_refused_quickly_without_a_traceback(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = main(["explain", text, "--offline", "--json"])
    captured = capsys.readouterr()
    assert time.monotonic() - started < 10
    assert code == 2
    assert json.loads(captured.out)["parsed"] is None
