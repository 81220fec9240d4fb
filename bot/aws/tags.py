"""Tags of the resources the execution role acts on, for `aws:ResourceTag/*` conditions.

A late collector: only when a policy read for this function (the role's policies and
boundary, SCPs/RCPs, the event sources', destinations' and keys' own policies) tests
`aws:ResourceTag/...`, it reads the tags of every event source (SQS queue, Kinesis
stream), destination (SQS queue, SNS topic, function, event bus) and KMS key in the
snapshot. Otherwise no call is made (the call budget of a diagnosis is unchanged).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourcetag
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.arns import parse_arn
from bot.aws import sqs
from bot.aws.kinesis import stream_arn
from bot.aws.reader import NOT_FOUND

if TYPE_CHECKING:
    from bot.aws.collect import CollectContext
    from bot.aws.reader import Reader
    from bot.snapshot import Snapshot


def policies_test_tags(snapshot: Snapshot) -> bool:
    """Whether any policy the checks evaluate tests a resource tag."""
    documents: list[Any] = []
    role = snapshot.role
    if role is not None:
        documents += [p.document for p in (*role.inline_policies, *role.attached_policies)]
        if role.boundary is not None:
            documents.append(role.boundary.document)
    org = snapshot.organization
    if org is not None:
        for levels in (org.scp or [], org.rcp or []):
            documents += [p.document for level in levels for p in level]
    documents += [m.source.policy for m in snapshot.event_source_mappings]
    documents += [t.policy for t in snapshot.destinations]
    documents += [k.policy for k in snapshot.kms_keys.values()]
    return any(d is not None and "ResourceTag/" in json.dumps(d) for d in documents)


async def collect(ctx: CollectContext) -> None:
    """Late collector: fill `tags` of event sources, destinations and KMS keys."""
    snapshot = ctx.snapshot
    if not policies_test_tags(snapshot):
        return
    reader = ctx.reader
    sources = [m.source for m in snapshot.event_source_mappings if m.source.arn]
    keys = list(snapshot.kms_keys.values())
    source_tags, target_tags, key_tags = await asyncio.gather(
        asyncio.gather(*(read_tags(reader, s.arn or "", s.type) for s in sources)),
        asyncio.gather(*(read_tags(reader, t.arn, t.service) for t in snapshot.destinations)),
        asyncio.gather(*(read_tags(reader, k.arn, "kms") for k in keys)),
    )
    for source, tags in zip(sources, source_tags, strict=True):
        source.tags = tags
    for target, tags in zip(snapshot.destinations, target_tags, strict=True):
        target.tags = tags
    for key, tags in zip(keys, key_tags, strict=True):
        key.tags = tags


async def read_tags(reader: Reader, arn: str, service: str) -> dict[str, str] | None:
    """The tags of one resource; None when they could not be read (a gap); `{}` for a
    resource whose tags no `aws:ResourceTag` key of the checked actions carries
    (DynamoDB streams, S3 destinations)."""
    parsed = parse_arn(arn)
    account = await reader.account_for(arn)
    region = parsed.region or reader.region
    where: dict[str, Any] = {"account": account, "region": region, "resource": arn}
    if service == "sqs":
        reply = await reader.call("sqs", "ListQueueTags", **where, QueueUrl=sqs.queue_url(arn))
        return None if reply is None else _mapping(reply.get("Tags"))
    if service == "kinesis":
        reply = await reader.call(
            "kinesis", "ListTagsForStream", **where, StreamARN=stream_arn(arn)
        )
        return None if reply is None else _pairs(reply.get("Tags"), "Key", "Value")
    if service == "sns":
        reply = await reader.call("sns", "ListTagsForResource", **where, ResourceArn=arn)
        return None if reply is None else _pairs(reply.get("Tags"), "Key", "Value")
    if service == "lambda":
        function = ":".join(arn.split(":")[:7])
        reply = await reader.call("lambda", "ListTags", **where, Resource=function)
        return None if reply is None else _mapping(reply.get("Tags"))
    if service == "events":
        reply = await reader.call("events", "ListTagsForResource", **where, ResourceARN=arn)
        return None if reply is None else _pairs(reply.get("Tags"), "Key", "Value")
    if service == "kms":
        reply = await reader.call(
            "kms", "ListResourceTags", **where, missing=("NotFoundException",), KeyId=arn
        )
        if reply is NOT_FOUND:
            return {}
        return None if reply is None else _pairs(reply.get("Tags"), "TagKey", "TagValue")
    return {}


def _mapping(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _pairs(value: object, key: str, val: str) -> dict[str, str]:
    items: Iterable[Any] = value if isinstance(value, list) else []
    return {
        str(item[key]): str(item.get(val, ""))
        for item in items
        if isinstance(item, Mapping) and key in item
    }
