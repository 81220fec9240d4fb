"""IAM reads: the execution role, its inline, managed and boundary policies.

Role details are cached per role ARN and managed policy default versions per policy ARN
for the access's TTL; policy version documents are immutable and kept longer. A read
with gaps is never cached. `fresh=True` (Rerun) bypasses the caches.

https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote

from bot.arns import parse_arn, role_name_of
from bot.aws.access import IMMUTABLE_TTL
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Gap, NamedPolicy, PolicyDocument, Role

_NO_ENTITY = ("NoSuchEntity", "NoSuchEntityException")


async def read_role(reader: Reader, role_arn: str) -> Role:
    """The role with its trust, inline, attached and boundary policies (cached)."""

    async def load() -> tuple[Role, list[Gap]]:
        child = reader.child()
        role = await _load_role(child, role_arn)
        return role, child.gaps

    role = await reader.cached(("iam-role", role_arn), load)
    return role.model_copy(deep=True)


async def _load_role(reader: Reader, role_arn: str) -> Role:
    name = role_name_of(role_arn)
    account = _account(role_arn, reader.account)
    reply = await reader.call(
        "iam", "GetRole", resource=role_arn, missing=_NO_ENTITY, account=account, RoleName=name
    )
    if reply is NOT_FOUND:
        reader.gap(
            "iam:GetRole", role_arn, f"NoSuchEntity: The role with name {name} cannot be found."
        )
        return Role(arn=role_arn, name=name, exists=False)
    data: dict[str, Any] = dict((reply or {}).get("Role") or {})
    boundary_arn = (data.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    inline, attached = await _gather_lists(reader, role_arn, name, account)
    boundary = await read_managed_policy(reader, boundary_arn) if boundary_arn else None
    return Role(
        arn=data.get("Arn") or role_arn,
        name=data.get("RoleName") or name,
        path=data.get("Path") or "/",
        role_id=data.get("RoleId"),
        trust_policy=decode_document(data.get("AssumeRolePolicyDocument")),
        inline_policies=inline,
        attached_policies=attached,
        boundary=boundary,
        tags={t["Key"]: t.get("Value", "") for t in data.get("Tags") or [] if "Key" in t},
        exists=reply is not None,
    )


async def _gather_lists(
    reader: Reader, role_arn: str, name: str, account: str
) -> tuple[list[NamedPolicy], list[NamedPolicy]]:
    inline_names, attached = await asyncio.gather(
        reader.pages(
            "iam", "ListRolePolicies", "PolicyNames", resource=role_arn, account=account,
            RoleName=name,
        ),
        reader.pages(
            "iam", "ListAttachedRolePolicies", "AttachedPolicies", resource=role_arn,
            account=account, RoleName=name,
        ),
    )  # fmt: skip
    inline = await asyncio.gather(
        *(_inline_policy(reader, role_arn, name, account, p) for p in inline_names or [])
    )
    managed = await asyncio.gather(
        *(read_managed_policy(reader, p["PolicyArn"]) for p in attached or [] if "PolicyArn" in p)
    )
    return list(inline), list(managed)


async def _inline_policy(
    reader: Reader, role_arn: str, role_name: str, account: str, policy_name: str
) -> NamedPolicy:
    reply = await reader.call(
        "iam",
        "GetRolePolicy",
        resource=f"{role_arn}/{policy_name}",
        account=account,
        RoleName=role_name,
        PolicyName=policy_name,
    )
    document = decode_document((reply or {}).get("PolicyDocument"))
    return NamedPolicy(name=f"{role_name}/{policy_name}", kind="inline", document=document)


async def read_managed_policy(reader: Reader, policy_arn: str) -> NamedPolicy:
    """A managed policy's default version document (GetPolicy + GetPolicyVersion, cached)."""
    aws_managed = _is_aws_managed(policy_arn)
    account = reader.account if aws_managed else _account(policy_arn, reader.account)
    name = policy_arn.rsplit("/", 1)[-1]
    kind = "aws-managed" if aws_managed else "managed"

    async def default_version() -> tuple[str | None, list[Gap]]:
        child = reader.child()
        reply = await child.call(
            "iam", "GetPolicy", resource=policy_arn, account=account, PolicyArn=policy_arn
        )
        version = ((reply or {}).get("Policy") or {}).get("DefaultVersionId")
        return version, child.gaps

    version_id = None
    if not aws_managed:
        version_id = (await attached_policy_versions(reader, account)).get(policy_arn)
    if version_id is None:
        version_id = await reader.cached(("iam-policy-default", policy_arn), default_version)
    if version_id is None:
        return NamedPolicy(name=name, arn=policy_arn, kind=kind)

    async def document() -> tuple[PolicyDocument | None, list[Gap]]:
        child = reader.child()
        reply = await child.call(
            "iam",
            "GetPolicyVersion",
            resource=policy_arn,
            account=account,
            PolicyArn=policy_arn,
            VersionId=version_id,
        )
        doc = decode_document(((reply or {}).get("PolicyVersion") or {}).get("Document"))
        return doc, child.gaps

    doc = await reader.cached(
        ("iam-policy-version", policy_arn, version_id), document, ttl=IMMUTABLE_TTL, immutable=True
    )
    return NamedPolicy(name=name, arn=policy_arn, kind=kind, version_id=version_id, document=doc)


async def attached_policy_versions(reader: Reader, account: str) -> dict[str, str]:
    """Default version ids of every attached customer managed policy of the account.

    One ListPolicies(Scope=Local, OnlyAttached=True) per account and TTL replaces a
    GetPolicy per policy; a policy missing from it (attached since) falls back to GetPolicy.
    """

    async def load() -> dict[str, str] | None:
        # a failed listing is not a gap of the diagnosis: GetPolicy answers per policy
        items = await reader.child().pages(
            "iam",
            "ListPolicies",
            "Policies",
            account=account,
            Scope="Local",
            OnlyAttached=True,
            PaginationConfig={"PageSize": 1000},
        )
        if items is None:
            return None
        return {
            str(p["Arn"]): str(p["DefaultVersionId"])
            for p in items
            if p.get("Arn") and p.get("DefaultVersionId")
        }

    versions = await reader.access.cached(
        ("iam-attached-policies", account),
        load,
        fresh=reader.fresh,
        keep=lambda value: value is not None,
    )
    return versions or {}


def decode_document(value: Any) -> PolicyDocument | None:
    """A policy document as botocore gives it: a dict, or a URL-encoded JSON string."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    text = str(value)
    for candidate in (text, unquote(text)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _is_aws_managed(policy_arn: str) -> bool:
    try:
        return parse_arn(policy_arn).account == "aws"
    except ValueError:
        return False


def _account(arn: str, default: str) -> str:
    try:
        account = parse_arn(arn).account
    except ValueError:
        return default
    return account if len(account) == 12 else default
