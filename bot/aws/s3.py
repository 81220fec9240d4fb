"""S3 reads: bucket notifications that invoke the function.

Buckets are found in the resource policy (`aws:SourceArn` conditions of statements for
`s3.amazonaws.com`), or, with `scan_triggers`, among all buckets of the region. A bucket
counts as a trigger only when its notification configuration names the function.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bot.arns import FunctionRef
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Gap, PolicyDocument, Trigger

MAX_SCANNED_BUCKETS = 1000
_NO_BUCKET = ("NoSuchBucket",)
#: the bucket lives in another region: not a trigger of this function
_OTHER_REGION = (
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
)
_S3_PRINCIPAL = "s3.amazonaws.com"


def policy_buckets(policy: PolicyDocument | None) -> dict[str, str | None]:
    """Bucket name -> source account, from the statements letting S3 invoke the function."""
    buckets: dict[str, str | None] = {}
    for statement in _statements(policy):
        if not _has_service(statement.get("Principal"), _S3_PRINCIPAL):
            continue
        arns = list(_condition_values(statement.get("Condition"), "aws:sourcearn"))
        accounts = list(_condition_values(statement.get("Condition"), "aws:sourceaccount"))
        for arn in arns:
            if not arn.startswith("arn:") or ":s3:::" not in arn:
                continue
            name = arn.split(":::", 1)[1].split("/", 1)[0]
            if name and not any(c in name for c in "*?"):
                buckets.setdefault(name, accounts[0] if len(accounts) == 1 else None)
    return buckets


async def read_s3_triggers(
    reader: Reader, ref: FunctionRef, policy: PolicyDocument | None, *, scan: bool = False
) -> list[Trigger]:
    named = policy_buckets(policy)
    buckets: dict[str, str | None] = dict(named)
    if scan:
        for name in await _region_buckets(reader):
            buckets.setdefault(name, None)
    results = await asyncio.gather(
        *(
            _bucket_trigger(reader, ref, name, account, scanned=name not in named)
            for name, account in buckets.items()
        )
    )
    return [t for found in results for t in found]


async def _region_buckets(reader: Reader) -> list[str]:
    items = await reader.pages(
        "s3", "ListBuckets", "Buckets", max_items=MAX_SCANNED_BUCKETS, BucketRegion=reader.region
    )
    if items is not None and len(items) >= MAX_SCANNED_BUCKETS:
        reader.gap(
            "s3:ListBuckets", None, f"Truncated: scanned the first {MAX_SCANNED_BUCKETS} buckets"
        )
    names = []
    for item in items or []:
        region = item.get("BucketRegion")
        if region and region != reader.region:
            continue
        if item.get("Name"):
            names.append(str(item["Name"]))
    return names


async def _bucket_trigger(
    reader: Reader, ref: FunctionRef, bucket: str, account: str | None, *, scanned: bool
) -> list[Trigger]:
    missing = _NO_BUCKET + _OTHER_REGION if scanned else _NO_BUCKET
    accounts = [reader.account]
    if account and account != reader.account:
        claimed = await reader.account_for(f"arn:{reader.partition}:s3::{account}:x")
        accounts = list(dict.fromkeys([claimed, reader.account]))

    async def load() -> tuple[tuple[str, dict[str, Any]] | None, list[Gap]]:
        """(bucket owner, configuration): the first account the bucket is read in as its
        owner (`ExpectedBucketOwner`); the gaps only when no account could read it."""
        gaps: list[Gap] = []
        for owner in accounts:
            child = reader.child()
            reply = await child.call(
                "s3",
                "GetBucketNotificationConfiguration",
                resource=f"arn:{reader.partition}:s3:::{bucket}",
                missing=missing,
                account=owner,
                Bucket=bucket,
                ExpectedBucketOwner=owner,
            )
            if reply is NOT_FOUND:
                return None, []
            if reply is None:
                gaps.extend(g for g in child.gaps if g not in gaps)
                continue
            configs = [dict(c) for c in reply.get("LambdaFunctionConfigurations") or []]
            return (owner, {"LambdaFunctionConfigurations": configs}), []
        return None, gaps

    read = await reader.cached(("s3-notifications", tuple(accounts), bucket), load)
    if read is None:
        return []
    read_account, reply = read
    owner = read_account
    if account and account != read_account and not await _owns(reader, read_account, bucket):
        # the bucket is not the reading account's (ListBuckets lists only the caller's own
        # buckets) and the claimed owner cannot be read: the claim cannot be disproved
        owner = account
    triggers = []
    for config in reply.get("LambdaFunctionConfigurations") or []:
        target = str(config.get("LambdaFunctionArn", ""))
        if not invokes_function(target, ref):
            continue
        detail = {
            "target": target,
            "events": ",".join(config.get("Events") or []),
        }
        if config.get("Id"):
            detail["notification_id"] = str(config["Id"])
        rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
        for rule in rules:
            detail[f"filter_{str(rule.get('Name', '')).lower()}"] = str(rule.get("Value", ""))
        triggers.append(
            Trigger(
                service="s3",
                principal=_S3_PRINCIPAL,
                source_arn=f"arn:{reader.partition}:s3:::{bucket}",
                # S3 sends the bucket owner as aws:SourceAccount: the account the
                # notification configuration was read in, never the one the permission
                # claims (that would echo the policy's own condition back to it)
                source_account=owner,
                name=bucket,
                discovered_by="s3:ListBuckets" if scanned else "lambda:GetPolicy",
                detail=detail,
            )
        )
    return triggers


async def _owns(reader: Reader, account: str, bucket: str) -> bool:
    """Whether `account` owns `bucket`: it is in that account's ListBuckets (cached).

    Asked only when a permission claims another owner than the account the notification
    configuration was read in (emulators such as moto do not enforce
    `ExpectedBucketOwner`). A failed or truncated listing counts as owned (the read
    account stays the owner, as `ExpectedBucketOwner` asserted).
    """

    async def load() -> tuple[frozenset[str] | None, list[Gap]]:
        child = reader.child()
        items = await child.pages(
            "s3", "ListBuckets", "Buckets", account=account, max_items=MAX_SCANNED_BUCKETS
        )
        if items is None or len(items) >= MAX_SCANNED_BUCKETS:
            return None, child.gaps
        return frozenset(str(i.get("Name")) for i in items), child.gaps

    names = await reader.cached(("s3-own-buckets", account), load)
    return names is None or bucket in names


def invokes_function(target: str, ref: FunctionRef) -> bool:
    """Whether `target` is the function or one of its versions or aliases."""
    base = ref.unqualified_arn
    return target == base or target.startswith(base + ":")


def _statements(policy: PolicyDocument | None) -> Iterator[Mapping[str, Any]]:
    if not policy:
        return
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
            yield statement


def _has_service(principal: Any, service: str) -> bool:
    if isinstance(principal, Mapping):
        values = principal.get("Service")
        if isinstance(values, str):
            return values == service
        return isinstance(values, list) and service in values
    return False


def _condition_values(condition: Any, key: str) -> Iterable[str]:
    """Values of a condition key (case-insensitive) under any operator."""
    if not isinstance(condition, Mapping):
        return
    for block in condition.values():
        if not isinstance(block, Mapping):
            continue
        for name, value in block.items():
            if str(name).lower() != key:
                continue
            if isinstance(value, str):
                yield value
            elif isinstance(value, list):
                yield from (str(v) for v in value)
