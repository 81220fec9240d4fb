"""env-kms: Lambda decrypts the environment with `aws:lambda:FunctionArn` as encryption context."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks import env_kms
from bot.report import Status
from bot.snapshot import NamedPolicy, Snapshot

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:orders"
CONTEXT_ARN = "kms:EncryptionContext:aws:lambda:FunctionArn"


def _with_condition(condition: dict[str, dict[str, str | list[str]]]) -> Snapshot:
    snapshot = Snapshot.load(FIXTURES / "broken_env_kms_role.json")
    assert snapshot.role is not None
    snapshot.role.inline_policies.append(
        NamedPolicy(
            name="env",
            kind="inline",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DecryptOwnEnvironment",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": KEY,
                        "Condition": condition,
                    }
                ],
            },
        )
    )
    return snapshot


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        ({"StringEquals": {CONTEXT_ARN: FUNCTION}}, "pass"),
        ({"ArnLike": {CONTEXT_ARN: FUNCTION + "*"}}, "pass"),
        ({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [CONTEXT_ARN[22:]]}}, "pass"),
        ({"StringEquals": {"kms:ViaService": "lambda.us-east-1.amazonaws.com"}}, "pass"),
        ({"StringEquals": {CONTEXT_ARN: FUNCTION + "-v2"}}, "fail"),
        ({"StringEquals": {"kms:EncryptionContext:LambdaFunctionName": "orders"}}, "fail"),
    ],
)  # fmt: skip
def test_encryption_context_conditions(
    condition: dict[str, dict[str, str | list[str]]], status: str
) -> None:
    [finding] = env_kms.run(_with_condition(condition))
    assert finding.status is Status(status), finding.detail
    if status == "fail":
        assert finding.denied_by == ["identity"]


def test_qualified_function_uses_the_unqualified_arn() -> None:
    snapshot = _with_condition({"StringEquals": {CONTEXT_ARN: FUNCTION}})
    snapshot.function.arn = FUNCTION + ":live"
    [finding] = env_kms.run(snapshot)
    assert finding.status is Status.PASS
