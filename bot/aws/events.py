"""EventBridge reads: rules on any event bus of the region that target the function.

https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListRuleNamesByTarget.html
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html
"""

from __future__ import annotations

import asyncio

from bot.arns import FunctionRef
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Gap, Trigger

MAX_BUSES = 100
#: one ListAliases page: rules on aliases beyond it are not searched (a gap says so)
MAX_ALIASES = 50
_NOT_FOUND = ("ResourceNotFoundException",)


async def read_event_buses(reader: Reader) -> list[str]:
    """Names of the region's event buses (`default` always first); cached per account."""

    async def load() -> tuple[list[str], list[Gap]]:
        child = reader.child()
        reply = await child.call("events", "ListEventBuses", Limit=MAX_BUSES)
        names = ["default"]
        for bus in (reply or {}).get("EventBuses") or []:
            name = bus.get("Name")
            if name and name not in names:
                names.append(str(name))
        return names, child.gaps

    return list(await reader.cached(("events-buses", reader.account, reader.region), load))


async def read_aliases(reader: Reader, ref: FunctionRef) -> list[str]:
    """ARNs of the function's aliases: one ListAliases page (at most `MAX_ALIASES`).

    EventBridge matches a rule's target ARN exactly, so a rule that targets
    `function:name:live` is listed only under that ARN. One page keeps the pass cheap; a
    function with more aliases gets a gap saying the rest were not searched.
    https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
    """
    reply = await reader.call(
        "lambda",
        "ListAliases",
        resource=ref.unqualified_arn,
        missing=_NOT_FOUND,
        FunctionName=ref.name,  # the reader's account and region: the name suffices
        MaxItems=MAX_ALIASES,
    )
    if reply is None or reply is NOT_FOUND:
        return []
    if reply.get("NextMarker"):
        reader.gap(
            "lambda:ListAliases",
            ref.unqualified_arn,
            f"Truncated: EventBridge rules were searched for the first {MAX_ALIASES} aliases",
        )
    return [
        str(alias["AliasArn"])
        for alias in reply.get("Aliases") or []
        if str(alias.get("AliasArn", "")).startswith(ref.unqualified_arn + ":")
    ]


async def read_event_triggers(reader: Reader, ref: FunctionRef) -> list[Trigger]:
    """Rules targeting the function, the qualifier asked for, or any of its aliases."""
    buses, aliases = await asyncio.gather(read_event_buses(reader), read_aliases(reader, ref))
    targets = list(dict.fromkeys([ref.unqualified_arn, ref.arn, *aliases]))
    found = await asyncio.gather(
        *(
            reader.pages(
                "events",
                "ListRuleNamesByTarget",
                "RuleNames",
                resource=target,
                missing=_NOT_FOUND,
                TargetArn=target,
                EventBusName=bus,
            )
            for bus in buses
            for target in targets
        )
    )
    pairs = [(bus, target) for bus in buses for target in targets]
    rules: dict[tuple[str, str], str] = {}
    for (bus, target), names in zip(pairs, found, strict=True):
        for name in names or []:
            rules.setdefault((bus, str(name)), target)
    described = await asyncio.gather(
        *(
            reader.call(
                "events",
                "DescribeRule",
                resource=f"{bus}/{name}",
                missing=_NOT_FOUND,
                Name=name,
                EventBusName=bus,
            )
            for bus, name in rules
        )
    )
    triggers = []
    for ((bus, name), target), rule in zip(rules.items(), described, strict=True):
        if rule is NOT_FOUND:
            continue
        info = rule or {}
        bus_part = "" if bus == "default" else f"{bus}/"
        arn = info.get("Arn") or (
            f"arn:{reader.partition}:events:{reader.region}:{reader.account}:rule/{bus_part}{name}"
        )
        detail = {"event_bus": bus, "target": target}
        for key, label in (
            ("State", "state"),
            ("ScheduleExpression", "schedule"),
            ("EventPattern", "event_pattern"),
            ("ManagedBy", "managed_by"),
        ):
            if info.get(key):
                detail[label] = str(info[key])
        triggers.append(
            Trigger(
                service="events",
                principal="events.amazonaws.com",
                source_arn=str(arn),
                source_account=reader.account,
                name=name,
                discovered_by="events:ListRuleNamesByTarget",
                detail=detail,
            )
        )
    return triggers
