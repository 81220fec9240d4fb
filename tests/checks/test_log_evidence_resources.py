"""log-evidence: log lines that name no resource (Lambda's short KMS message, `Access Denied`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.checks import log_evidence
from bot.report import Status
from bot.snapshot import LogLine, NamedPolicy, Snapshot

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SESSION = "arn:aws:sts::111111111111:assumed-role/orders-role/orders"
NAMED = (
    "[ERROR] KMSAccessDeniedException: Lambda was unable to decrypt the environment variables "
    "because KMS access was denied. Please check the function's KMS key settings. KMS "
    f"Exception: AccessDeniedException KMS Message: User: {SESSION} is not authorized to "
    f"perform: kms:Decrypt on resource: {KEY} because no resource-based policy allows the "
    "kms:Decrypt action"
)
SHORT = (
    "[ERROR] KMSAccessDeniedException: Lambda was unable to decrypt the environment variables "
    "because KMS access was denied."
)
S3_SHORT = (
    "[ERROR] ClientError: An error occurred (AccessDenied) when calling the GetObject "
    "operation: Access Denied"
)


def _snapshot(*messages: str) -> Snapshot:
    snapshot = Snapshot.load(FIXTURES / "broken_env_kms_key_policy.json")
    snapshot.logs = [
        LogLine(time=datetime(2026, 11, 28, 1, 0, i, tzinfo=UTC), message=m)
        for i, m in enumerate(messages)
    ]
    return snapshot


def test_short_kms_line_joins_the_named_denial() -> None:
    findings = log_evidence.run(_snapshot(NAMED, SHORT, SHORT))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.status is Status.FAIL
    assert finding.actions == ["kms:Decrypt"]
    assert finding.resources == [KEY]
    assert finding.denied_by == ["resource"]
    assert "3×" in finding.title


def test_short_kms_line_alone_is_about_the_environment_key() -> None:
    findings = log_evidence.run(_snapshot(SHORT))
    assert [(f.status, f.resources, f.denied_by) for f in findings] == [
        (Status.FAIL, [KEY], ["resource"])
    ]


def test_unnamed_resource_with_scoped_allow_is_a_warning() -> None:
    snapshot = _snapshot(S3_SHORT)
    assert snapshot.role is not None
    snapshot.role.inline_policies.append(
        NamedPolicy(
            name="reports",
            kind="inline",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadReports",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::reports/*",
                    }
                ],
            },
        )
    )
    [finding] = log_evidence.run(snapshot)
    assert finding.status is Status.WARN
    assert finding.actions == ["s3:GetObject"]
    assert any(ev.sid == "ReadReports" for ev in finding.evidence)


def test_unnamed_resource_never_allowed_is_a_fail() -> None:
    [finding] = log_evidence.run(_snapshot(S3_SHORT))
    assert finding.status is Status.FAIL
    assert finding.actions == ["s3:GetObject"]
    assert finding.denied_by == ["identity"]
