"""The execution role can decrypt environment variables encrypted with a customer managed key.

With `KMSKeyArn` set, Lambda decrypts the environment with the execution role's
credentials at init; without `kms:Decrypt` (allowed by the role AND the key policy, or by a
grant) invocations fail with `KMSAccessDeniedException`.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
No customer key configured: no finding.
"""

from __future__ import annotations

from bot.checks.common import checked_role
from bot.checks.fixes import q
from bot.checks.kms import key_asks
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import Snapshot

ID = "env-kms"


def run(snapshot: Snapshot) -> list[Finding]:
    key_ref = snapshot.function.kms_key_arn
    if not key_ref:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    answers = key_asks(
        snapshot,
        rp,
        key_ref,
        ("kms:Decrypt",),
        via_service=f"lambda.{snapshot.region}.amazonaws.com",
        encryption_context=encryption_context(snapshot),
    )
    if answers.aws_managed:
        return []
    key = answers.key
    if key is not None and key.key_state and key.key_state != "Enabled":
        return [_unusable_key(snapshot, rp.role_arn, key.arn, key.key_state)]
    wording = Wording(
        fail="Execution role cannot decrypt the function's environment variables",
        ok="Execution role can decrypt the function's environment variables",
        unknown="Could not decide whether the environment variables can be decrypted",
        purpose="decrypt the environment variables",
        context=(
            f"The environment variables are encrypted with the customer managed key {key_ref}; "
            "invocations fail with KMSAccessDeniedException when Lambda cannot decrypt them."
        ),
    )
    return [
        role_finding(
            snapshot,
            rp,
            ID,
            answers.asks,
            wording,
            severity=Severity.HIGH,
            sid="LambdaWhyEnvKms",
            resource_side=answers.side,
        )
    ]


def encryption_context(snapshot: Snapshot) -> dict[str, str]:
    """The encryption context Lambda decrypts the environment with: the function's ARN
    (what a `kms:EncryptionContext:aws:lambda:FunctionArn` condition tests; Lambda's
    CloudTrail `Decrypt` records carry it)."""
    return {"aws:lambda:FunctionArn": ":".join(snapshot.function.arn.split(":")[:7])}


def _unusable_key(snapshot: Snapshot, role_arn: str, key_arn: str, state: str) -> Finding:
    """A key that is disabled or scheduled for deletion cannot decrypt, whatever the policies."""
    commands = (
        [
            f"aws kms cancel-key-deletion --key-id {q(key_arn)}",
            f"aws kms enable-key --key-id {q(key_arn)}",
        ]
        if state == "PendingDeletion"
        else [f"aws kms enable-key --key-id {q(key_arn)}"]
        if state == "Disabled"
        else []
    )
    return Finding(
        check=ID,
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"The key encrypting the environment variables is {state}",
        detail=(
            f"The environment variables of {snapshot.function.name} are encrypted with "
            f"{key_arn}, which is in state {state}: Lambda cannot decrypt them and invocations "
            "fail (KMSDisabledException / KMSInvalidStateException)."
        ),
        principal=role_arn,
        actions=["kms:Decrypt"],
        resources=[key_arn],
        fix=Fix(
            summary=(
                f"Make the key usable again ({state} → Enabled), or re-encrypt the environment "
                "with another key (update-function-configuration --kms-key-arn)."
            ),
            commands=[
                *commands,
                f"aws lambda update-function-configuration --function-name "
                f"{q(snapshot.function.name)} --kms-key-arn <usable-key-arn>",
            ],
        ),
    )
