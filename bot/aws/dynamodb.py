"""DynamoDB Streams reads for a stream event source: stream, table encryption, policy.

https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_DescribeStream.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetResourcePolicy.html
"""

from __future__ import annotations

import asyncio

from bot.arns import parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import EventSource

_NOT_FOUND = ("ResourceNotFoundException",)
_NO_POLICY = ("PolicyNotFoundException", "ResourceNotFoundException")


def table_name(stream_arn: str) -> str:
    """`orders` from `arn:aws:dynamodb:R:A:table/orders/stream/2024-01-01T00:00:00.000`."""
    resource = parse_arn(stream_arn).resource
    return resource.split("/")[1] if resource.startswith("table/") else resource


async def read_stream(reader: Reader, source: EventSource) -> EventSource:
    """The source with stream status, the table's encryption and the stream policy."""
    assert source.arn is not None
    arn = source.arn
    account = await reader.account_for(arn)
    region = parse_arn(arn).region or reader.region
    stream, policy, table = await asyncio.gather(
        reader.call(
            "dynamodbstreams",
            "DescribeStream",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            StreamArn=arn,
        ),
        reader.call(
            "dynamodb",
            "GetResourcePolicy",
            resource=arn,
            missing=_NO_POLICY,
            account=account,
            region=region,
            ResourceArn=arn,
        ),
        reader.call(
            "dynamodb",
            "DescribeTable",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            TableName=table_name(arn),
        ),
    )
    if stream is NOT_FOUND:
        return source.model_copy(update={"exists": False})
    update: dict[str, object] = {}
    attributes: dict[str, str] = {"TableName": table_name(arn)}
    if stream is not None:
        info = stream.get("StreamDescription") or {}
        update["exists"] = True
        attributes["StreamStatus"] = str(info.get("StreamStatus", ""))
        attributes["StreamViewType"] = str(info.get("StreamViewType", ""))
    if table is not None and table is not NOT_FOUND:
        sse = (table.get("Table") or {}).get("SSEDescription") or {}
        attributes["SSEType"] = str(sse.get("SSEType", "AWS_OWNED"))
        if sse.get("KMSMasterKeyArn"):
            attributes["KMSMasterKeyArn"] = str(sse["KMSMasterKeyArn"])
    if policy is not None and policy is not NOT_FOUND:
        update["policy"] = parse_policy_text(
            reader, policy.get("Policy"), "dynamodb:GetResourcePolicy", arn
        )
    update["attributes"] = attributes
    return source.model_copy(update=update)
