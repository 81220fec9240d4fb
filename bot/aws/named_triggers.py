"""Triggers in other accounts that the function's resource policy names.

A rule or topic in another account is not found by the function account's own listings
(`ListRuleNamesByTarget`, `ListSubscriptions`): when a statement lets
`events.amazonaws.com` or `sns.amazonaws.com` invoke the function for a `SourceArn` in
another account, that rule's targets (`ListTargetsByRule`) or that topic's subscriptions
(`ListSubscriptionsByTopic`) are read there — through the account's read-only role; an
account lambda-why may not read is skipped (a trigger it cannot see is not judged). A rule
or topic that really invokes the function becomes a trigger, so a permission whose other
conditions (`SourceAccount`) do not hold is reported.

https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListTargetsByRule.html
https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
"""

from __future__ import annotations

import asyncio

from bot.arns import FunctionRef, account_of, parse_arn
from bot.aws.reader import Reader
from bot.aws.s3 import _condition_values, _has_service, _statements, invokes_function
from bot.snapshot import PolicyDocument, Trigger

_NOT_FOUND = ("ResourceNotFoundException", "NotFound", "NotFoundException")
#: named sources read per diagnosis (each one call)
MAX_NAMED = 20


def named_sources(policy: PolicyDocument | None, service: str, account: str) -> list[str]:
    """Concrete `aws:SourceArn` values of `service`'s statements, in accounts other than
    `account` (the function's own are found by listing)."""
    prefix = {"events.amazonaws.com": ":events:", "sns.amazonaws.com": ":sns:"}[service]
    found: list[str] = []
    for statement in _statements(policy):
        if not _has_service(statement.get("Principal"), service):
            continue
        for arn in _condition_values(statement.get("Condition"), "aws:sourcearn"):
            if (
                arn.startswith("arn:")
                and prefix in arn
                and not any(c in arn for c in "*?")
                and account_of(arn) not in (None, account)
                and arn not in found
            ):
                found.append(arn)
    return found[:MAX_NAMED]


async def read_named_triggers(
    reader: Reader, ref: FunctionRef, policy: PolicyDocument | None
) -> list[Trigger]:
    rules = named_sources(policy, "events.amazonaws.com", reader.account)
    topics = named_sources(policy, "sns.amazonaws.com", reader.account)
    found = await asyncio.gather(
        *(_rule(reader, ref, arn) for arn in rules), *(_topic(reader, ref, arn) for arn in topics)
    )
    return [t for t in found if t is not None]


async def _rule(reader: Reader, ref: FunctionRef, arn: str) -> Trigger | None:
    owner = account_of(arn)
    if owner is None or await reader.account_for(arn) != owner:
        return None  # not readable: the account is not configured
    parsed = parse_arn(arn)
    path = parsed.resource.split("/", 1)[1] if "/" in parsed.resource else ""
    bus, _, name = path.rpartition("/")
    bus = bus or "default"
    targets = await reader.pages(
        "events",
        "ListTargetsByRule",
        "Targets",
        resource=arn,
        missing=_NOT_FOUND,
        account=owner,
        region=parsed.region or reader.region,
        Rule=name,
        EventBusName=bus,
    )
    target = next(
        (str(t.get("Arn")) for t in targets or [] if invokes_function(str(t.get("Arn", "")), ref)),
        None,
    )
    if target is None:
        return None
    return Trigger(
        service="events",
        principal="events.amazonaws.com",
        source_arn=arn,
        source_account=owner,
        name=name,
        discovered_by="events:ListTargetsByRule",
        detail={"event_bus": bus, "target": target},
    )


async def _topic(reader: Reader, ref: FunctionRef, arn: str) -> Trigger | None:
    owner = account_of(arn)
    if owner is None or await reader.account_for(arn) != owner:
        return None
    subscriptions = await reader.pages(
        "sns",
        "ListSubscriptionsByTopic",
        "Subscriptions",
        resource=arn,
        missing=_NOT_FOUND,
        account=owner,
        region=parse_arn(arn).region or reader.region,
        TopicArn=arn,
    )
    sub = next(
        (
            s
            for s in subscriptions or []
            if s.get("Protocol") == "lambda" and invokes_function(str(s.get("Endpoint", "")), ref)
        ),
        None,
    )
    if sub is None:
        return None
    return Trigger(
        service="sns",
        principal="sns.amazonaws.com",
        source_arn=arn,
        source_account=owner,
        name=arn.rsplit(":", 1)[-1],
        discovered_by="sns:ListSubscriptionsByTopic",
        detail={
            "subscription_arn": str(sub.get("SubscriptionArn", "")),
            "endpoint": str(sub.get("Endpoint", "")),
            "target": str(sub.get("Endpoint", "")),
        },
    )
