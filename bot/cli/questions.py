"""`check` questions: `--as PRINCIPAL`, `--action ACTION`, `--resource ARN`, `--assume ROLE`.

The composition glue for `bot.explain.questions`: reads the asking principal's policies,
the resource's policy and the assumed role's trust policy (every failure a gap, shown as
an `unknown` finding), then adds the `question` / `assume-role` findings to the report.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.checks import assume_role
from bot.checks.common import sort_findings
from bot.cli import CliError
from bot.explain.inputs import ResourcePolicy
from bot.explain.questions import (
    DEFAULT_ACTION,
    normalise_principal,
    principal_question,
    role_question,
)
from bot.report import Finding, Report, Summary
from bot.snapshot import Gap, Role, Snapshot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="as_principal",
        metavar="PRINCIPAL_ARN",
        help="ask whether this user, role, account or service may call --action on the "
        "function (default lambda:InvokeFunction)",
    )
    parser.add_argument(
        "--action",
        metavar="ACTION",
        help="with --as: the action on the function; with --resource: what the function's "
        "execution role calls",
    )
    parser.add_argument(
        "--resource", metavar="ARN", help="ask whether the function may call --action on ARN"
    )
    parser.add_argument(
        "--assume",
        metavar="ROLE_ARN",
        help="check that the function can assume ROLE_ARN (its permission and the trust policy)",
    )


def wants_questions(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, name, None) for name in ("as_principal", "action", "resource", "assume")
    )


async def answer_questions(report: Report, snapshot: Snapshot, args: argparse.Namespace) -> Report:
    """The report with the questions' findings (and their read gaps) added."""
    action = args.action
    if action is not None and ":" not in action:
        raise CliError(f"--action {action!r} is not an IAM action like lambda:InvokeFunction")
    if args.resource and not action:
        raise CliError("--resource needs --action (the action the function calls on it)")
    if action and not args.resource and not args.as_principal:
        raise CliError("--action needs --as PRINCIPAL_ARN or --resource ARN")
    reader, setup_gap = await _reader(snapshot)
    findings: list[Finding] = []
    if args.as_principal:
        findings.extend(
            await _principal(snapshot, reader, args.as_principal, action or DEFAULT_ACTION)
        )
    elif action and args.resource:
        res = await _resource(reader, action, args.resource)
        findings.extend(role_question(snapshot, action, args.resource, res))
    if args.assume:
        findings.extend(await _assume(report, snapshot, reader, args.assume))
    gaps = list(report.gaps)
    for gap in ([setup_gap] if setup_gap else []) + (list(reader.gaps) if reader else []):
        if gap not in gaps:
            gaps.append(gap)
    merged = sort_findings([*report.findings, *findings])
    return report.model_copy(
        update={"findings": merged, "summary": Summary.of(merged), "gaps": gaps}
    )


async def _reader(snapshot: Snapshot) -> tuple[Any, Gap | None]:
    """A gap-recording reader in the function's account, or (None, why) without AWS."""
    from botocore.exceptions import BotoCoreError

    from bot.aws.access import AwsAccess
    from bot.aws.errors import AwsUnavailable
    from bot.aws.reader import Reader
    from bot.config import ConfigError, load_config

    try:
        settings, config = load_config()
        access = AwsAccess(settings, config)
        await access.own_identity()
    except (ConfigError, AwsUnavailable, BotoCoreError) as exc:
        return None, Gap(operation="sts:GetCallerIdentity", resource=None, error=str(exc))
    return (
        Reader(
            access, account=snapshot.account, region=snapshot.region, partition=snapshot.partition
        ),
        None,
    )


async def _principal(snapshot: Snapshot, reader: Any, value: str, action: str) -> list[Finding]:
    from bot.aws.explain_reads import principal_kind, read_principal
    from bot.explain.inputs import PrincipalPolicies

    arn = normalise_principal(value, snapshot.partition)
    kind = principal_kind(arn)
    if kind == "unknown":
        raise CliError(
            f"--as {value!r} is not a principal: use a user, role or assumed-role ARN, an "
            "account id, or a service principal such as s3.amazonaws.com"
        )
    if reader is None:
        principal = PrincipalPolicies(arn=arn, kind=kind, account=_account(arn))
    else:
        principal = await read_principal(reader, arn)
    return principal_question(snapshot, principal, action)


async def _resource(reader: Any, action: str, resource: str) -> ResourcePolicy:
    if reader is None:
        return ResourcePolicy(state="unreadable", description=f"the resource policy of {resource}")
    from bot.aws.explain_reads import read_resource_policy

    return await read_resource_policy(reader, action, resource)


async def _assume(report: Report, snapshot: Snapshot, reader: Any, target: str) -> list[Finding]:
    if ":role/" not in target:
        raise CliError(f"--assume {target!r} is not a role ARN")
    if any(f.check == assume_role.ID and target in f.resources for f in report.findings):
        return []  # already evaluated: the target was seen in the logs or CloudTrail
    if reader is None:
        role = Role(arn=target, name=target.rsplit("/", 1)[-1])
    else:
        from bot.aws.assume_targets import read_assumed_role

        role = await read_assumed_role(reader, target)
        snapshot.gaps.extend(g for g in reader.gaps if g not in snapshot.gaps)
    probe = snapshot.model_copy(update={"assumed_roles": [role]})
    return assume_role.run(probe)


def _account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None
