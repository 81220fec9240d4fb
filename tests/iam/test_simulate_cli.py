"""`lambda-why simulate`: JSON Lines in, one result per line, bad lines reported in place."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.simulate import simulate_stream

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "id": "ok-1",
    "request": {
        "principal": "arn:aws:iam::111111111111:user/alice",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::reports/1.csv",
    },
    "policies": {
        "identity": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                ],
            }
        ]
    },
}


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "simulate", *args],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def lines_of(*objects: object) -> bytes:
    return b"".join(
        (o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n" for o in objects
    )


def simulate(data: bytes) -> list[dict[str, object]]:
    out = io.StringIO()
    simulate_stream(io.BytesIO(data).readlines(), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_good_line_gives_contract_fields() -> None:
    [result] = simulate(lines_of(GOOD))
    assert result == {
        "id": "ok-1",
        "decision": "allowed",
        "denied_by": [],
        "statements": [{"policy": "identity[0]", "sid": "Read", "effect": "Allow"}],
        "error": None,
    }


def test_bad_lines_are_reported_in_order_and_the_run_goes_on() -> None:
    deny = json.loads(json.dumps(GOOD))
    deny["id"] = "deny-2"
    deny["request"]["action"] = "s3:PutObject"
    bad_policy = json.loads(json.dumps(GOOD))
    bad_policy["id"] = "bad-policy"
    bad_policy["policies"]["identity"][0]["Statement"][0]["Effect"] = "Permit"
    data = lines_of(
        GOOD,
        b"{not json",
        deny,
        {"id": "no-request"},
        bad_policy,
        b"\xff\xfe",
        [1, 2],
        {"id": 7, "request": {"principal": "x", "action": "s3:GetObject"}},
    )
    results = simulate(data)
    assert [r["id"] for r in results] == [
        "ok-1",
        None,
        "deny-2",
        "no-request",
        "bad-policy",
        None,
        None,
        7,
    ]
    assert results[0]["error"] is None
    assert "line 2" in str(results[1]["error"])
    assert "JSON" in str(results[1]["error"])
    assert results[2]["decision"] == "implicit_deny"
    assert results[2]["denied_by"] == ["identity"]
    assert "request" in str(results[3]["error"])
    assert "statement 0 (Sid 'Read')" in str(results[4]["error"])
    assert "Effect" in str(results[4]["error"])
    assert "UTF-8" in str(results[5]["error"])
    assert "object" in str(results[6]["error"])
    assert "request.resource" in str(results[7]["error"])
    for result in results[1:]:
        if result["id"] != "deny-2":
            assert set(result) == {"id", "error"}


def test_byte_order_mark_and_crlf_are_accepted() -> None:
    data = (
        b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\r\n" + json.dumps(GOOD).encode() + b"\r\n"
    )
    assert [r["decision"] for r in simulate(data)] == ["allowed", "allowed"]


def test_blank_lines_are_skipped() -> None:
    results = simulate(b"\n" + lines_of(GOOD) + b"   \n\n" + lines_of(GOOD))
    assert [r["id"] for r in results] == ["ok-1", "ok-1"]


def test_extra_fields_are_ignored_and_context_scalars_accepted() -> None:
    line = json.loads(json.dumps(GOOD))
    line["expect"] = {"decision": "allowed"}
    line["request"]["context"] = {"aws:SecureTransport": True, "s3:max-keys": 10}
    [result] = simulate(lines_of(line))
    assert result["decision"] == "allowed"


def test_bad_context_value_is_a_line_error() -> None:
    line = json.loads(json.dumps(GOOD))
    line["request"]["context"] = {"aws:SourceIp": {"ip": "1.2.3.4"}}
    [result] = simulate(lines_of(line))
    assert "aws:SourceIp" in str(result["error"])


def test_stdin_and_exit_code_zero() -> None:
    proc = run_cli("-", stdin=lines_of(GOOD, b"oops").decode())
    assert proc.returncode == 0
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["id"] for r in out] == ["ok-1", None]
    assert proc.stderr == ""


def test_unreadable_file_exits_2_with_one_stderr_line(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "missing.jsonl" in proc.stderr


def test_directory_exits_2(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path))
    assert proc.returncode == 2


@pytest.mark.parametrize("explain", [False, True])
def test_example_file_runs(explain: bool) -> None:
    args = ["examples/simulate.jsonl"] + (["--explain"] if explain else [])
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    if explain:
        assert any("IMPLICIT DENY" in line for line in lines)
        assert any("ALLOWED" in line for line in lines)
    else:
        results = [json.loads(line) for line in lines]
        count = sum(
            1
            for line in (ROOT / "examples/simulate.jsonl").read_text().splitlines()
            if line.strip()
        )
        assert len(results) == count
        assert {r.get("decision") for r in results} >= {"allowed", "implicit_deny", "explicit_deny"}


def test_output_stays_strict_json_for_nan_infinity_and_overflowing_ids() -> None:
    data = (
        b'{"id": NaN, "request": {"principal": "*", "action": "s3:GetObject", "resource": "*"}}\n'
        + b'{"id": "ctx", "request": {"principal": "*", "action": "s3:GetObject", '
        + b'"resource": "*", "context": {"n": -Infinity}}}\n'
        + b'{"id": 1e400}\n'
    )
    out = io.StringIO()
    simulate_stream(io.BytesIO(data).readlines(), out)
    rows = [json.loads(line, parse_constant=pytest.fail) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [None, None, "inf"]
    assert "NaN is not a JSON value" in str(rows[0]["error"])
    assert "Infinity is not a JSON value" in str(rows[1]["error"])
    assert rows[2]["error"] == 'line 3: missing "request"'


def test_many_wildcard_patterns_do_not_stall_the_run() -> None:
    pattern = "arn:aws:s3:::b/" + "a*" * 30 + "c"
    line = {
        "id": "redos",
        "request": {
            "principal": "*",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/" + "a" * 20000,
        },
        "policies": {
            "resource": {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": pattern,
                },
            }
        },
    }
    [row] = simulate(lines_of(line))
    assert row["decision"] == "implicit_deny"


def test_long_variable_text_does_not_stall_the_run() -> None:
    resource = "arn:aws:s3:::b/${aws:x" + " " * 200_000 + "y}"
    line = {
        "id": "var",
        "request": {"principal": "*", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
        "policies": {
            "resource": {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": resource,
                },
            }
        },
    }
    [row] = simulate(lines_of(line))
    assert row["decision"] == "implicit_deny"
