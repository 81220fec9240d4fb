"""Terminal rendering: colour only on a TTY without NO_COLOR; failing findings in full."""

from __future__ import annotations

import io
from pathlib import Path

from bot.checks import build_report
from bot.render import render_report, use_color
from bot.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "checks" / "fixtures"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_tty_and_no_no_color() -> None:
    assert use_color(_Tty(), environ={}) is True
    assert use_color(_Tty(), environ={"NO_COLOR": ""}) is False
    assert use_color(_Tty(), environ={"NO_COLOR": "1"}) is False
    assert use_color(io.StringIO(), environ={}) is False


def test_failing_finding_shows_denial_evidence_and_fix() -> None:
    report = build_report(Snapshot.load(FIXTURES / "broken_logs_identity_deny.json"))
    text = render_report(report, color=False)
    assert "\033[" not in text
    assert text.index("== FAIL (1) ==") < text.index("== PASS")
    assert "denied by: identity" in text
    assert "no-logs (Sid NoLogs)" in text
    assert "fix: Remove or narrow statement 'NoLogs' of no-logs" in text
    assert "$ aws iam put-role-policy --role-name orders-role --policy-name no-logs" in text


def test_colour_output_paints_status() -> None:
    report = build_report(Snapshot.load(FIXTURES / "broken_xray.json"))
    text = render_report(report, color=True)
    assert "\033[31m[fail]\033[0m" in text
    assert "\033[32m[pass]\033[0m" in text
