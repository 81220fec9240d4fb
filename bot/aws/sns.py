"""SNS reads: topics subscribed by the function (triggers) and SNS destinations.

https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptions.html
https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.arns import FunctionRef, account_of, parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Gap, PolicyDocument, Trigger

#: ListSubscriptions returns 100 a page; stop after this many subscriptions
MAX_SUBSCRIPTIONS = 2000
_NOT_FOUND = ("NotFound", "NotFoundException")


@dataclass
class Topic:
    arn: str
    exists: bool | None = None
    policy: PolicyDocument | None = None
    kms_key: str | None = None


async def read_topic(reader: Reader, arn: str) -> Topic:
    account = await reader.account_for(arn)
    region = parse_arn(arn).region or reader.region
    reply = await reader.call(
        "sns",
        "GetTopicAttributes",
        resource=arn,
        missing=_NOT_FOUND,
        account=account,
        region=region,
        TopicArn=arn,
    )
    if reply is None:
        return Topic(arn=arn)
    if reply is NOT_FOUND:
        return Topic(arn=arn, exists=False)
    attributes = dict(reply.get("Attributes") or {})
    return Topic(
        arn=arn,
        exists=True,
        policy=parse_policy_text(reader, attributes.get("Policy"), "sns:GetTopicAttributes", arn),
        kms_key=attributes.get("KmsMasterKeyId") or None,
    )


async def read_sns_triggers(reader: Reader, ref: FunctionRef) -> list[Trigger]:
    """Subscriptions (protocol lambda) whose endpoint is this function or its qualifier."""

    async def load() -> tuple[list[dict[str, Any]] | None, list[Gap]]:
        child = reader.child()
        items = await child.pages(
            "sns", "ListSubscriptions", "Subscriptions", max_items=MAX_SUBSCRIPTIONS
        )
        if items is not None and len(items) >= MAX_SUBSCRIPTIONS:
            child.gap(
                "sns:ListSubscriptions",
                None,
                f"Truncated: stopped after {MAX_SUBSCRIPTIONS} subscriptions",
            )
        subs = (
            None
            if items is None
            else [
                {
                    k: str(item.get(k, ""))
                    for k in ("Protocol", "Endpoint", "TopicArn", "SubscriptionArn")
                }
                for item in items
            ]
        )
        return subs, child.gaps

    subscriptions = await reader.cached(("sns-subscriptions", reader.account, reader.region), load)
    base = ref.unqualified_arn
    triggers = []
    for sub in subscriptions or []:
        endpoint = sub["Endpoint"]
        if sub["Protocol"] != "lambda" or not (endpoint == base or endpoint.startswith(base + ":")):
            continue
        topic = sub["TopicArn"]
        triggers.append(
            Trigger(
                service="sns",
                principal="sns.amazonaws.com",
                source_arn=topic,
                source_account=account_of(topic),
                name=topic.rsplit(":", 1)[-1],
                discovered_by="sns:ListSubscriptions",
                detail={
                    "subscription_arn": sub["SubscriptionArn"],
                    "endpoint": sub["Endpoint"],
                    "target": sub["Endpoint"],
                },
            )
        )
    return triggers
