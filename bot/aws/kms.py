"""KMS reads: key metadata, the default key policy and grants.

Keys are named in many forms (key id, `alias/...`, key ARN, alias ARN); `key_reference`
makes an ARN of each, and `read_key` resolves it with DescribeKey, so the snapshot's
`kms_keys` is indexed by key ARN.

https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html
https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Gap, KmsGrant, KmsKey

_NOT_FOUND = ("NotFoundException",)


def key_reference(key: str | None, *, partition: str, region: str, account: str) -> str | None:
    """An ARN for a key named by id, alias name, key ARN or alias ARN (None stays None)."""
    if not key:
        return None
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:{partition}:kms:{region}:{account}:{key}"
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"


def is_alias(reference: str) -> bool:
    return ":alias/" in reference


async def read_key(reader: Reader, reference: str) -> KmsKey | None:
    """DescribeKey, GetKeyPolicy (default) and ListGrants; None when the key is unknown
    (a gap says why when it could not be read, a missing key is reported as not found)."""

    async def load() -> tuple[KmsKey | None, list[Gap]]:
        child = reader.child()
        return await _load(child, reference), child.gaps

    key = await reader.cached(("kms-key", reference), load)
    return None if key is None else key.model_copy(deep=True)


async def _load(reader: Reader, reference: str) -> KmsKey | None:
    account = await reader.account_for(reference)
    region = _region(reference) or reader.region
    reply = await reader.call(
        "kms",
        "DescribeKey",
        resource=reference,
        missing=_NOT_FOUND,
        account=account,
        region=region,
        KeyId=reference,
    )
    if reply is NOT_FOUND:
        if ":alias/aws/" not in reference:
            reader.gap(
                "kms:DescribeKey", reference, f"NotFoundException: key {reference} not found"
            )
        # an AWS managed key alias (alias/aws/sqs) exists once a service first uses it;
        # its reference stays in the snapshot, and its key policy lets the account use it
        return None
    if reply is None:
        return None if is_alias(reference) else KmsKey(arn=reference)
    meta: dict[str, Any] = dict(reply.get("KeyMetadata") or {})
    arn = meta.get("Arn") or reference
    policy_reply, grants = await asyncio.gather(
        reader.call(
            "kms",
            "GetKeyPolicy",
            resource=arn,
            account=account,
            region=region,
            KeyId=arn,
            PolicyName="default",
        ),
        reader.pages(
            "kms", "ListGrants", "Grants", resource=arn, account=account, region=region, KeyId=arn
        ),
    )
    policy = None
    if policy_reply:
        try:
            parsed = json.loads(policy_reply.get("Policy") or "null")
        except ValueError as exc:
            reader.gap("kms:GetKeyPolicy", arn, f"policy is not JSON: {exc}")
        else:
            policy = parsed if isinstance(parsed, dict) else None
    return KmsKey(
        arn=arn,
        key_manager=meta.get("KeyManager"),
        key_state=meta.get("KeyState"),
        policy=policy,
        grants=[
            KmsGrant(
                grantee_principal=g.get("GranteePrincipal"),
                operations=list(g.get("Operations") or []),
                retiring_principal=g.get("RetiringPrincipal"),
                constraints=g.get("Constraints") or None,
            )
            for g in grants or []
        ],
    )


def _region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None
