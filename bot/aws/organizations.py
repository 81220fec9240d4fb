"""AWS Organizations reads: the SCPs and RCPs on the path from the root to an account.

Only with `[organization]` configured (CONTRACTS §4): the reader role is assumed (unless
it is the bot's own identity), then ListParents walks up from the account to the root,
and ListPoliciesForTarget + DescribePolicy read each level's policies. Levels are root
first, account last (CONTRACTS §1). A policy type that is not enabled in the root, and
the management account (which SCPs and RCPs never restrict), give None for that type.

https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListPoliciesForTarget.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.access import describe
from bot.aws.errors import TRANSPORT_ERRORS, AwsUnavailable
from bot.aws.reader import Reader
from bot.snapshot import Gap, NamedPolicy, OrgPolicies

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
#: an account is at most 5 OUs deep below the root
MAX_DEPTH = 8


class _Failed(Exception):
    """One organizations read failed (already recorded as a gap)."""


async def read_org_policies(reader: Reader, account: str) -> OrgPolicies | None:
    """SCP/RCP levels for `account`, or None when `[organization]` is not configured or
    could not be read (then a gap says why)."""
    if reader.access.config.organization is None:
        return None

    async def load() -> tuple[OrgPolicies | None, list[Gap]]:
        child = reader.child()
        return await _load(child, account), child.gaps

    org = await reader.cached(("org-policies", account), load)
    return None if org is None else org.model_copy(deep=True)


async def _load(reader: Reader, account: str) -> OrgPolicies | None:
    org_config = reader.access.config.organization
    assert org_config is not None
    try:
        client = await reader.access.org_client()
    except AwsUnavailable as exc:
        reader.gap("sts:AssumeRole", org_config.role_arn, str(exc))
        return None

    async def call(operation: str, resource: str | None, **params: Any) -> Mapping[str, Any]:
        try:
            return await reader.access.call(client, operation, **params)
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            reader.gap(f"organizations:{operation}", resource, describe(exc))
            raise _Failed from exc

    async def pages(operation: str, key: str, resource: str, **params: Any) -> list[Any]:
        try:
            return await reader.access.paginate(client, operation, key, **params)
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            reader.gap(f"organizations:{operation}", resource, describe(exc))
            raise _Failed from exc

    try:
        organization = (await call("DescribeOrganization", None)).get("Organization") or {}
        management = organization.get("MasterAccountId")
        if account == management:
            return OrgPolicies(scp=None, rcp=None, management_account=management)
        roots = await pages("ListRoots", "Roots", "roots")
        enabled = {
            t.get("Type")
            for root in roots
            for t in root.get("PolicyTypes") or []
            if t.get("Status") == "ENABLED"
        }
        path = await _path_to_root(account, pages)
        levels: dict[str, list[list[NamedPolicy]] | None] = {}
        for policy_type in (SCP, RCP):
            if policy_type not in enabled:
                levels[policy_type] = None
                continue
            levels[policy_type] = [
                await _level(reader, target, policy_type, pages, call) for target in path
            ]
    except _Failed:
        return None
    return OrgPolicies(scp=levels[SCP], rcp=levels[RCP], management_account=management, path=path)


async def _path_to_root(account: str, pages: Any) -> list[str]:
    """Target ids from the root down to the account."""
    path = [account]
    child = account
    for _ in range(MAX_DEPTH):
        parents = await pages("ListParents", "Parents", child, ChildId=child)
        if not parents:
            break
        parent = parents[0]
        path.append(str(parent["Id"]))
        if parent.get("Type") == "ROOT":
            break
        child = str(parent["Id"])
    return list(reversed(path))


async def _level(
    reader: Reader, target: str, policy_type: str, pages: Any, call: Any
) -> list[NamedPolicy]:
    summaries = await pages(
        "ListPoliciesForTarget", "Policies", target, TargetId=target, Filter=policy_type
    )
    policies = []
    for summary in summaries:
        policy_id = str(summary.get("Id", ""))

        async def content(policy_id: str = policy_id) -> tuple[str | None, list[Gap]]:
            reply = await call("DescribePolicy", policy_id, PolicyId=policy_id)
            return (reply.get("Policy") or {}).get("Content"), []

        text = await reader.cached(("org-policy", policy_id), content)
        document = None
        if text:
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                reader.gap("organizations:DescribePolicy", policy_id, f"policy is not JSON: {exc}")
            else:
                document = parsed if isinstance(parsed, dict) else None
        policies.append(
            NamedPolicy(
                name=str(summary.get("Name", policy_id)),
                arn=summary.get("Arn"),
                kind="aws-managed" if summary.get("AwsManaged") else "managed",
                document=document,
            )
        )
    return policies
