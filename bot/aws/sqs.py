"""SQS reads: a queue's attributes, its queue policy and its KMS key.

Used for SQS event sources and SQS destinations (DLQ, on-failure, on-success).
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.arns import parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import PolicyDocument

_NOT_FOUND = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@dataclass
class Queue:
    arn: str
    exists: bool | None = None  # None: could not be read
    policy: PolicyDocument | None = None
    kms_key: str | None = None  # KmsMasterKeyId as SQS returns it (id, alias or ARN)
    attributes: dict[str, str] = field(default_factory=dict)


def queue_url(arn: str) -> str:
    """The queue URL for a queue ARN (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`)."""
    parsed = parse_arn(arn)
    suffix = ".amazonaws.com.cn" if parsed.partition == "aws-cn" else ".amazonaws.com"
    return f"https://sqs.{parsed.region}{suffix}/{parsed.account}/{parsed.resource}"


async def read_queue(reader: Reader, arn: str) -> Queue:
    account = await reader.account_for(arn)
    region = parse_arn(arn).region or reader.region
    reply = await reader.call(
        "sqs",
        "GetQueueAttributes",
        resource=arn,
        missing=_NOT_FOUND,
        account=account,
        region=region,
        QueueUrl=queue_url(arn),
        AttributeNames=["All"],
    )
    if reply is None:
        return Queue(arn=arn)
    if reply is NOT_FOUND:
        return Queue(arn=arn, exists=False)
    attributes = dict(reply.get("Attributes") or {})
    policy = parse_policy_text(
        reader, attributes.pop("Policy", None), "sqs:GetQueueAttributes", arn
    )
    return Queue(
        arn=arn,
        exists=True,
        policy=policy,
        kms_key=attributes.get("KmsMasterKeyId") or None,
        attributes={k: str(v) for k, v in attributes.items()},
    )
