"""bot.checks.cloudtrail_denials on snapshot fixtures."""

from __future__ import annotations

from datetime import timedelta

from bot.checks import cloudtrail_denials
from bot.report import Status
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import FUNCTION, NOW, POLICY_ARN, ROLE, ROLE_ARN, make_snapshot

SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-AbCdEf"
TABLE = "arn:aws:dynamodb:us-east-1:111111111111:table/orders"


def secret_denied(minutes: int) -> dict[str, object]:
    return r.code_denied(
        ROLE,
        FUNCTION,
        action="secretsmanager:GetSecretValue",
        resource=SECRET,
        params={"secretId": "prod/db"},
        time=NOW - timedelta(minutes=minutes),
    )


def test_no_denials_no_findings() -> None:
    assert cloudtrail_denials.run(make_snapshot(None)) == []
    assert cloudtrail_denials.run(make_snapshot([])) == []


def test_denied_secret_read_is_a_failure_with_evidence_and_fix() -> None:
    snapshot = make_snapshot([secret_denied(50), secret_denied(20)])
    [finding] = cloudtrail_denials.run(snapshot)
    assert finding.check == "cloudtrail-denials"
    assert finding.status is Status.FAIL
    assert finding.principal == ROLE_ARN
    assert finding.actions == ["secretsmanager:GetSecretValue"]
    assert finding.resources == [SECRET]
    assert finding.denied_by == ["identity"]
    assert "CloudTrail recorded 2 denied secretsmanager:GetSecretValue calls" in finding.detail
    assert "first at 2026-11-28T02:10:00Z, last at 2026-11-28T02:40:00Z (continuous)" in (
        finding.detail
    )
    assert finding.evidence[0].text.startswith("CloudTrail 2026-11-28T02:40:00Z GetSecretValue")
    assert finding.fix is not None
    assert "secretsmanager:GetSecretValue" in str(finding.fix.policy)


def test_denial_now_allowed_is_a_warning() -> None:
    snapshot = make_snapshot(
        [
            r.code_denied(
                ROLE,
                FUNCTION,
                action="dynamodb:PutItem",
                resource=TABLE,
                params={"tableName": "orders"},
                time=NOW - timedelta(minutes=5),
            )
        ]
    )
    [finding] = cloudtrail_denials.run(snapshot)
    assert finding.status is Status.WARN
    assert "now allow it" in finding.detail


def test_lambda_eni_denial_parses_action_and_subnet() -> None:
    snapshot = make_snapshot(
        [r.eni_denied(ROLE, FUNCTION, "subnet-0abc", time=NOW - timedelta(minutes=5))], vpc=True
    )
    [finding] = cloudtrail_denials.run(snapshot)
    assert finding.status is Status.FAIL
    assert finding.actions == ["ec2:CreateNetworkInterface"]
    assert finding.resources == ["arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0abc"]


def test_other_roles_and_other_sessions_are_not_the_function() -> None:
    other = r.code_denied(
        "other-role",
        FUNCTION,
        action="secretsmanager:GetSecretValue",
        resource=SECRET,
        params={"secretId": "prod/db"},
        time=NOW - timedelta(minutes=5),
    )
    sibling = r.code_denied(
        ROLE,
        "billing",  # another function sharing the role
        action="secretsmanager:GetSecretValue",
        resource=SECRET,
        params={"secretId": "prod/db"},
        time=NOW - timedelta(minutes=5),
    )
    assert cloudtrail_denials.run(make_snapshot([other, sibling])) == []


def test_denials_are_correlated_with_a_detached_policy() -> None:
    from bot.timeline import correlate

    snapshot = make_snapshot(
        [
            r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=2)),
            secret_denied(30),
        ]
    )
    [finding] = correlate(cloudtrail_denials.run(snapshot), snapshot)
    assert finding.related_events[0].event == "DetachRolePolicy"
    assert "Likely cause: bob" in finding.detail
