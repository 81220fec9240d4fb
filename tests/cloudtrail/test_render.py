"""CloudTrail events in the terminal rendering of `check` and in `history`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.checks import build_report
from bot.cli import main
from bot.cli.history import history_document, render_history
from bot.render import render_report
from bot.snapshot import Snapshot
from bot.timeline import timeline
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import FUNCTION, NOW, ROLE, make_snapshot


def snapshot_with_removal() -> Snapshot:
    return make_snapshot(
        [
            r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2)),
            r.code_denied(
                ROLE,
                FUNCTION,
                action="secretsmanager:GetSecretValue",
                resource="arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-AbCdEf",
                params={"secretId": "prod/db"},
                time=NOW - timedelta(minutes=30),
            ),
        ]
    )


def test_check_text_lists_events_with_source_ip() -> None:
    report = build_report(snapshot_with_removal())
    text = render_report(report)
    events = text.split("== EVENTS (2) ==", 1)[1]
    line = next(x for x in events.splitlines() if "RemovePermission" in x)
    assert line == (
        "2026-11-28T01:00:00Z  RemovePermission  "
        "arn:aws:sts::111111111111:assumed-role/deployer/alice  from 203.0.113.5  "
        "removed invoke permission s3-orders-upload"
    )
    assert any(f.check == "cloudtrail-denials" for f in report.findings)


def test_history_text_and_json() -> None:
    snapshot = snapshot_with_removal()
    events = timeline(snapshot)
    text = render_history(snapshot, events)
    assert "from 2026-11-27T03:00:00Z to 2026-11-28T03:00:00Z" in text.splitlines()[0]
    assert "denials: 1, first 2026-11-28T02:30:00Z, last 2026-11-28T02:30:00Z" in text
    doc = history_document(snapshot, events)
    assert doc["since"] == "2026-11-27T03:00:00Z"
    assert doc["until"] == "2026-11-28T03:00:00Z"
    assert [e["event"] for e in doc["events"]] == ["GetSecretValue", "RemovePermission"]
    assert doc["events"][1]["summary"] == "removed invoke permission s3-orders-upload"
    assert doc["gaps"] == []


def test_history_replays_a_snapshot_and_narrows_the_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = snapshot_with_removal()
    path = tmp_path / "snapshot.json"
    snapshot.dump(path)
    assert main(["history", "--snapshot", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["event"] for e in doc["events"]] == ["GetSecretValue", "RemovePermission"]
    assert main(["history", FUNCTION, "--snapshot", str(path), "--since", "1h", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["since"] == "2026-11-28T02:00:00Z"
    assert [e["event"] for e in doc["events"]] == ["GetSecretValue"]
    assert main(["history", "billing", "--snapshot", str(path)]) == 2
    assert "is not the function in" in capsys.readouterr().err
