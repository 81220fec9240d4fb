"""`lambda-why check`: exit codes, --json, --snapshot replay, --save-snapshot, --since."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.check import parse_duration
from bot.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "checks" / "fixtures"
HEALTHY = FIXTURES / "healthy_full.json"
BROKEN = FIXTURES / "broken_vpc_scp.json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "24", "h", "1.5h", "-1h", "0m", "1y", "24 h x", "1h-30m", "1d1d", "30m1h", "3651d",
     "9" * 5000 + "d"],
)  # fmt: skip
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_json_replay_prints_exactly_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--snapshot", str(BROKEN), "--json"])
    out = capsys.readouterr()
    assert code == 1
    doc = json.loads(out.out)  # exactly one document: json.loads refuses trailing data
    assert doc["function"] == "arn:aws:lambda:us-east-1:111111111111:function:orders"
    assert doc["summary"]["fail"] == 1
    assert doc["findings"][0]["check"] == "vpc-eni"
    assert doc["findings"][0]["denied_by"] == ["scp"]
    assert out.err == ""


def test_healthy_replay_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--snapshot", str(HEALTHY), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["fail"] == 0


def test_text_output_groups_by_status_without_colour(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["check", "--snapshot", str(BROKEN)]) == 1
    out = capsys.readouterr().out
    assert "== FAIL (1) ==" in out
    assert "== PASS" in out
    assert out.index("== FAIL") < out.index("== PASS")
    assert "\033[" not in out  # captured stdout is not a TTY
    assert "denied by: scp" in out
    assert "fix:" in out
    assert "p-denyeni1" in out


def test_function_matching_the_snapshot_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:lambda:us-east-1:111111111111:function:orders"
    for ref in ("orders", arn):
        assert main(["check", ref, "--snapshot", str(HEALTHY), "--json"]) == 0
        json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "payments", "--snapshot", str(HEALTHY)], "is not the function in"),
        (
            [
                "check",
                "arn:aws:lambda:eu-west-1:111111111111:function:orders",
                "--snapshot",
                str(HEALTHY),
            ],
            "is not the function in",
        ),
        (["check", "--snapshot", "/nonexistent/snapshot.json"], "cannot read snapshot"),
        (["check", "--snapshot", str(HEALTHY), "--since", "yesterday"], "invalid duration"),
        (["check"], "FUNCTION is required"),
        (["check", "arn:aws:s3:::not-a-function"], ""),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("lambda-why: ")
    assert message in lines[0]


@pytest.mark.parametrize("content", [b'{"hello": "world"}', b"{not json", b"[]", b"\xff\xfe\x00{"])
def test_not_a_snapshot_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    assert main(["check", "--snapshot", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "is not a lambda-why snapshot" in err
    assert len(err.strip().splitlines()) == 1


def test_save_snapshot_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "again.json"
    assert main(["check", "--snapshot", str(BROKEN), "--save-snapshot", str(saved), "--json"]) == 1
    first = json.loads(capsys.readouterr().out)
    assert Snapshot.load(saved) == Snapshot.load(BROKEN)
    assert main(["check", "--snapshot", str(saved), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == first
