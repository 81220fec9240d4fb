"""`explain --offline --json`: the CONTRACTS §3 document, exact keys, exit codes."""

from __future__ import annotations

import io
import json
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


_REAL2: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "cases" / "parser_cases_real2.json").read_text(encoding="utf-8")
)


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
