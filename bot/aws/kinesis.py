"""Kinesis reads for a stream event source: summary (encryption key) and resource policy.

https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetResourcePolicy.html
"""

from __future__ import annotations

import asyncio

from bot.arns import parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import EventSource

_NOT_FOUND = ("ResourceNotFoundException",)


def stream_arn(arn: str) -> str:
    """The stream of a stream or enhanced fan-out consumer ARN."""
    return arn.split("/consumer/", 1)[0]


async def read_stream(reader: Reader, source: EventSource) -> tuple[EventSource, str | None]:
    """The source with policy/attributes filled, and its KMS key as Kinesis names it."""
    assert source.arn is not None
    stream = stream_arn(source.arn)
    account = await reader.account_for(stream)
    region = parse_arn(stream).region or reader.region
    summary, policy = await asyncio.gather(
        reader.call(
            "kinesis",
            "DescribeStreamSummary",
            resource=stream,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            StreamARN=stream,
        ),
        reader.call(
            "kinesis",
            "GetResourcePolicy",
            resource=source.arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            ResourceARN=source.arn,
        ),
    )
    if summary is NOT_FOUND:
        return source.model_copy(update={"exists": False}), None
    update: dict[str, object] = {}
    key = None
    if summary is not None:
        info = summary.get("StreamDescriptionSummary") or {}
        update["exists"] = True
        attributes = {
            "StreamStatus": str(info.get("StreamStatus", "")),
            "EncryptionType": str(info.get("EncryptionType", "NONE")),
            "StreamMode": str((info.get("StreamModeDetails") or {}).get("StreamMode", "")),
        }
        if stream != source.arn:
            attributes["StreamARN"] = stream
        if info.get("EncryptionType") == "KMS" and info.get("KeyId"):
            key = str(info["KeyId"])
            attributes["KeyId"] = key
        update["attributes"] = attributes
    if policy is not None and policy is not NOT_FOUND:
        update["policy"] = parse_policy_text(
            reader, policy.get("Policy"), "kinesis:GetResourcePolicy", source.arn
        )
    return source.model_copy(update=update), key
