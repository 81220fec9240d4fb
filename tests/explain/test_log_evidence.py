"""The log-evidence check on a snapshot fixture (no AWS)."""

from __future__ import annotations

from pathlib import Path

from bot.checks import log_evidence
from bot.report import Finding, Status
from bot.snapshot import Snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "log_denials.json"


def findings_by_action() -> dict[str, Finding]:
    snapshot = Snapshot.load(FIXTURE)
    return {f.actions[0]: f for f in log_evidence.run(snapshot)}


def test_one_finding_per_distinct_denial() -> None:
    snapshot = Snapshot.load(FIXTURE)
    findings = log_evidence.run(snapshot)
    assert sorted(f.actions[0] for f in findings) == [
        "dynamodb:PutItem",
        "dynamodb:Query",
        "s3:GetObject",
        "secretsmanager:GetSecretValue",
    ]
    assert all(f.check == "log-evidence" for f in findings)


def test_missing_allow_is_a_fail_with_fix_and_log_lines() -> None:
    finding = findings_by_action()["dynamodb:PutItem"]
    assert finding.status is Status.FAIL
    assert finding.principal == "arn:aws:iam::111111111111:role/orders-role"
    assert finding.denied_by == ["identity"]
    assert "2×" in finding.title
    assert finding.evidence[0].text.startswith("2026-11-28T01:00:01Z")
    assert finding.fix is not None
    assert finding.fix.policy is not None
    assert "dynamodb:PutItem" in str(finding.fix.policy)


def test_explicit_deny_names_the_statement() -> None:
    finding = findings_by_action()["secretsmanager:GetSecretValue"]
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["identity"]
    assert any(ev.sid == "NoSecrets" for ev in finding.evidence)


def test_allowed_locally_is_a_warning_naming_unevaluated_scps() -> None:
    finding = findings_by_action()["dynamodb:Query"]
    assert finding.status is Status.WARN
    assert "SCPs and RCPs (not evaluated" in finding.detail
    assert finding.denied_by == ["scp"]
    assert any(ev.sid == "ReadOrders" for ev in finding.evidence)


def test_other_principal_is_reported_as_such() -> None:
    finding = findings_by_action()["s3:GetObject"]
    assert finding.status is Status.WARN
    assert finding.principal == "arn:aws:sts::222222222222:assumed-role/reports-reader/orders"


def test_no_access_errors_no_findings() -> None:
    snapshot = Snapshot.load(FIXTURE)
    snapshot.logs = [line for line in snapshot.logs if "RequestId" in line.message]
    assert log_evidence.run(snapshot) == []
