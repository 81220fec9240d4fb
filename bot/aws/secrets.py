"""Secrets Manager metadata for secrets an event source mapping authenticates with.

Never the value: DescribeSecret (KMS key) and GetResourcePolicy only; the read-only hook
refuses GetSecretValue.
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
"""

from __future__ import annotations

import asyncio

from bot.arns import parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Secret

_NOT_FOUND = ("ResourceNotFoundException",)


async def read_secret(reader: Reader, arn: str) -> tuple[Secret, str | None]:
    """The secret's metadata and its KMS key as Secrets Manager names it."""
    account = await reader.account_for(arn)
    region = parse_arn(arn).region or reader.region
    described, policy = await asyncio.gather(
        reader.call(
            "secretsmanager",
            "DescribeSecret",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            SecretId=arn,
        ),
        reader.call(
            "secretsmanager",
            "GetResourcePolicy",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            SecretId=arn,
        ),
    )
    if described is NOT_FOUND:
        return Secret(arn=arn, exists=False), None
    secret = Secret(arn=(described or {}).get("ARN") or arn, exists=described is not None or None)
    key = str(described["KmsKeyId"]) if described and described.get("KmsKeyId") else None
    if policy is not None and policy is not NOT_FOUND:
        secret.policy = parse_policy_text(
            reader, policy.get("ResourcePolicy"), "secretsmanager:GetResourcePolicy", arn
        )
    return secret, key
