"""Roles the function's code tries to assume: found in its logs and CloudTrail, then read.

Targets are `sts:AssumeRole` denials of the execution role's sessions in `snapshot.logs`
(parsed with the explain parser) and AssumeRole events with an AccessDenied error code in
`snapshot.cloudtrail`. Each target role is read with `iam.read_role` — in its own
account through that account's read-only role when it is configured — so the
`assume-role` check can evaluate both sides: the execution role's permission and the
target's trust policy. At most `MAX_TARGETS` roles are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.aws import iam
from bot.checks.log_evidence import is_role_session
from bot.explain.parser import parse_message
from bot.snapshot import Role, Snapshot

if TYPE_CHECKING:
    from bot.aws.collect import CollectContext
    from bot.aws.reader import Reader

MAX_TARGETS = 5


def assume_targets(snapshot: Snapshot) -> list[str]:
    """Role ARNs the execution role was denied assuming, in order of appearance."""
    role_arn = snapshot.function.role_arn
    found: dict[str, None] = {}
    for line in snapshot.logs:
        if "sts:AssumeRole" not in line.message and "AssumeRole" not in line.message:
            continue
        parsed = parse_message(line.message)
        if (
            parsed is not None
            and (parsed.action or "").lower() == "sts:assumerole"
            and parsed.resource
            and ":role/" in parsed.resource
            and parsed.principal is not None
            and is_role_session(parsed.principal, role_arn)
        ):
            found.setdefault(parsed.resource, None)
    for event in snapshot.cloudtrail or []:
        if event.name != "AssumeRole" or not (event.error_code or "").startswith("AccessDenied"):
            continue
        target = (event.request_parameters or {}).get("roleArn")
        if isinstance(target, str) and is_role_session(event.actor, role_arn) and event.actor:
            found.setdefault(target, None)
    return list(found)[:MAX_TARGETS]


async def read_assumed_role(reader: Reader, role_arn: str) -> Role:
    return await iam.read_role(reader, role_arn)


async def collect(ctx: CollectContext) -> None:
    """Late collector (after logs and CloudTrail): fill `snapshot.assumed_roles`."""
    known = {r.arn for r in ctx.snapshot.assumed_roles}
    for target in assume_targets(ctx.snapshot):
        if target not in known:
            ctx.snapshot.assumed_roles.append(await read_assumed_role(ctx.reader, target))
