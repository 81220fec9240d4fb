"""The execution role can decrypt environment variables encrypted with a customer managed key.

With `KMSKeyArn` set, Lambda decrypts the environment with the execution role's
credentials at init; without `kms:Decrypt` (allowed by the role AND the key policy, or by a
grant) invocations fail with `KMSAccessDeniedException`.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
No customer key configured: no finding.
"""

from __future__ import annotations

from bot.checks.common import checked_role
from bot.checks.kms import key_asks
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity
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
        encryption_context={"LambdaFunctionName": snapshot.function.name},
    )
    if answers.aws_managed:
        return []
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
