"""Amazon MQ reads for a broker event source.

https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers-broker-id.html
"""

from __future__ import annotations

from bot.arns import parse_arn
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import EventSource

_NOT_FOUND = ("NotFoundException",)


def broker_id(arn: str) -> str:
    """`b-1234…` from `arn:aws:mq:R:A:broker:NAME:b-1234…`."""
    return arn.rsplit(":", 1)[-1]


async def read_broker(reader: Reader, source: EventSource) -> EventSource:
    assert source.arn is not None
    arn = source.arn
    reply = await reader.call(
        "mq",
        "DescribeBroker",
        resource=arn,
        missing=_NOT_FOUND,
        account=await reader.account_for(arn),
        region=parse_arn(arn).region or reader.region,
        BrokerId=broker_id(arn),
    )
    if reply is None:
        return source
    if reply is NOT_FOUND:
        return source.model_copy(update={"exists": False})
    encryption = reply.get("EncryptionOptions") or {}
    attributes = {
        "BrokerState": str(reply.get("BrokerState", "")),
        "EngineType": str(reply.get("EngineType", "")),
        "AuthenticationStrategy": str(reply.get("AuthenticationStrategy", "")),
        "PubliclyAccessible": str(bool(reply.get("PubliclyAccessible"))).lower(),
        "SubnetIds": ",".join(reply.get("SubnetIds") or []),
        "SecurityGroupIds": ",".join(reply.get("SecurityGroups") or []),
    }
    if encryption.get("KmsKeyId"):
        attributes["KmsKeyId"] = str(encryption["KmsKeyId"])
    return source.model_copy(update={"exists": True, "attributes": attributes})
