"""Reads for `explain`: the principal a message names and the policy of the resource it names.

Everything here goes through `Reader`, so a failed read is a `Gap`, never an exception.
The principal is an IAM role (an assumed-role session resolves to its role), an IAM user
(inline, attached and group policies, permissions boundary), or something with no
identity policies to read (a service principal, an account, anonymous).

The resource policy is read for the services whose resources carry one and which the
message names: Lambda functions and layers, S3 buckets, SQS queues, SNS topics, KMS keys,
Secrets Manager secrets, IAM roles (the trust policy, for `sts:AssumeRole*`), ECR
repositories and EventBridge buses.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.arns import parse_arn
from bot.aws import iam
from bot.aws.reader import NOT_FOUND, Reader
from bot.explain.inputs import PrincipalKind, PrincipalPolicies, ResourcePolicy
from bot.snapshot import NamedPolicy, PolicyDocument


def principal_kind(arn: str | None) -> PrincipalKind:
    if not arn:
        return "unknown"
    if arn in {"anonymous", "*"}:
        return "anonymous"
    if arn.endswith(".amazonaws.com") or arn.endswith(".amazonaws.com.cn"):
        return "service"
    try:
        parsed = parse_arn(arn)
    except ValueError:
        return "unknown"
    if parsed.service == "sts" and parsed.resource.startswith("assumed-role/"):
        return "role"
    if parsed.service == "iam" and parsed.resource.startswith("role/"):
        return "role"
    if parsed.service == "iam" and parsed.resource.startswith("user/"):
        return "user"
    if parsed.service == "iam" and parsed.resource == "root":
        return "root"
    return "unknown"


def entity_arn(arn: str) -> str | None:
    """The IAM role or user ARN behind a principal ARN (assumed-role → role, path unknown)."""
    try:
        parsed = parse_arn(arn)
    except ValueError:
        return None
    if parsed.service == "sts" and parsed.resource.startswith("assumed-role/"):
        role = parsed.resource.split("/")[1]
        return f"arn:{parsed.partition}:iam::{parsed.account}:role/{role}"
    if parsed.service == "iam" and parsed.resource.startswith(("role/", "user/")):
        return arn
    return None


def _account_ok(account: str | None) -> bool:
    return bool(account) and len(account or "") == 12 and (account or "").isdigit()


async def read_principal(reader: Reader, arn: str | None) -> PrincipalPolicies:
    """Identity policies and boundary of the principal (role or user)."""
    kind = principal_kind(arn)
    out = PrincipalPolicies(arn=arn, kind=kind)
    if arn is None or kind in ("service", "anonymous", "unknown"):
        return out
    try:
        out.account = parse_arn(arn).account
    except ValueError:
        return out
    if not _account_ok(out.account):
        reader.gap("iam:GetRole", arn, f"the principal's account {out.account!r} is masked")
        return out
    if kind == "root":
        return out
    entity = entity_arn(arn)
    if entity is None:
        return out
    out.entity_arn = entity
    if kind == "role":
        role = await iam.read_role(reader, entity)
        out.entity_arn = role.arn
        # `Role.exists` is False for a role that could not be read at all; only AWS saying
        # NoSuchEntity means it does not exist (denied, or an account lambda-why may not
        # read, is unknown)
        out.exists = role.exists or not any(
            g.operation == "iam:GetRole"
            and g.resource in (entity, role.arn)
            and g.error.startswith("NoSuchEntity")
            for g in reader.gaps
        )
        out.identity = [*role.inline_policies, *role.attached_policies]
        out.boundary = role.boundary
        out.tags = dict(role.tags)
        out.read = role.exists and not any(
            g.operation.startswith("iam:") and g.resource in (entity, role.arn) for g in reader.gaps
        )
        return out
    return await _read_user(reader, out, entity)


async def _read_user(reader: Reader, out: PrincipalPolicies, user_arn: str) -> PrincipalPolicies:
    name = user_arn.rsplit("/", 1)[-1]
    account = out.account
    before = len(reader.gaps)
    reply = await reader.call(
        "iam",
        "GetUser",
        resource=user_arn,
        missing=("NoSuchEntity",),
        account=account,
        UserName=name,
    )
    if reply is NOT_FOUND:
        out.exists = False
        reader.gap(
            "iam:GetUser", user_arn, f"NoSuchEntity: The user with name {name} cannot be found."
        )
        return out
    user = dict((reply or {}).get("User") or {})
    out.tags = {t["Key"]: t.get("Value", "") for t in user.get("Tags") or [] if "Key" in t}
    boundary_arn = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    inline_names, attached, groups = await asyncio.gather(
        reader.pages(
            "iam",
            "ListUserPolicies",
            "PolicyNames",
            resource=user_arn,
            account=account,
            UserName=name,
        ),
        reader.pages(
            "iam",
            "ListAttachedUserPolicies",
            "AttachedPolicies",
            resource=user_arn,
            account=account,
            UserName=name,
        ),
        reader.pages(
            "iam", "ListGroupsForUser", "Groups", resource=user_arn, account=account, UserName=name
        ),
    )
    policies: list[NamedPolicy] = []
    for policy_name in inline_names or []:
        got = await reader.call(
            "iam",
            "GetUserPolicy",
            resource=f"{user_arn}/{policy_name}",
            account=account,
            UserName=name,
            PolicyName=policy_name,
        )
        policies.append(
            NamedPolicy(
                name=f"{name}/{policy_name}",
                document=iam.decode_document((got or {}).get("PolicyDocument")),
            )
        )
    for item in attached or []:
        if "PolicyArn" in item:
            policies.append(await iam.read_managed_policy(reader, item["PolicyArn"]))
    for group in groups or []:
        group_name = group.get("GroupName")
        if not group_name:
            continue
        group_inline, group_attached = await asyncio.gather(
            reader.pages(
                "iam",
                "ListGroupPolicies",
                "PolicyNames",
                resource=group.get("Arn"),
                account=account,
                GroupName=group_name,
            ),
            reader.pages(
                "iam",
                "ListAttachedGroupPolicies",
                "AttachedPolicies",
                resource=group.get("Arn"),
                account=account,
                GroupName=group_name,
            ),
        )
        for policy_name in group_inline or []:
            got = await reader.call(
                "iam",
                "GetGroupPolicy",
                resource=group.get("Arn"),
                account=account,
                GroupName=group_name,
                PolicyName=policy_name,
            )
            policies.append(
                NamedPolicy(
                    name=f"group {group_name}/{policy_name}",
                    document=iam.decode_document((got or {}).get("PolicyDocument")),
                )
            )
        for item in group_attached or []:
            if "PolicyArn" in item:
                policies.append(await iam.read_managed_policy(reader, item["PolicyArn"]))
    out.identity = policies
    if boundary_arn:
        out.boundary = await iam.read_managed_policy(reader, boundary_arn)
    out.read = len(reader.gaps) == before
    return out


# --------------------------------------------------------------------------- resources


def _doc(value: Any) -> PolicyDocument | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


async def read_resource_policy(
    reader: Reader, action: str | None, resource: str | None
) -> ResourcePolicy:
    """The policy attached to `resource`, for the services that have one."""
    if not action or not resource or not resource.startswith("arn:"):
        return ResourcePolicy(state="not-applicable")
    try:
        arn = parse_arn(resource)
    except ValueError:
        return ResourcePolicy(state="not-applicable")
    account = arn.account if _account_ok(arn.account) else None
    region = arn.region or reader.region
    if arn.account and not account:
        reader.gap("resource-policy", resource, f"the resource's account {arn.account!r} is masked")
        return ResourcePolicy(state="unreadable")
    service = arn.service
    kw: dict[str, Any] = {"account": account, "region": region}
    if service == "iam" and arn.resource.startswith("role/"):
        role = await iam.read_role(reader, resource)
        if not role.exists or role.trust_policy is None:
            return ResourcePolicy(state="unreadable", account=account)
        return ResourcePolicy(
            state="read",
            document=role.trust_policy,
            label=f"trust policy of {role.arn}",
            account=account,
            description=f"the trust policy of {role.arn}",
        )
    if service == "lambda" and arn.resource.startswith("function:"):
        reply = await reader.call(
            "lambda",
            "GetPolicy",
            resource=resource,
            missing=("ResourceNotFoundException",),
            FunctionName=resource,
            **kw,
        )
        return _state(
            reply, "Policy", resource, f"the resource-based policy of {resource}", account
        )
    if service == "lambda" and arn.resource.startswith("layer:"):
        parts = arn.resource.split(":")
        if len(parts) < 3 or not parts[2].isdigit():
            return ResourcePolicy(state="not-applicable")
        reply = await reader.call(
            "lambda",
            "GetLayerVersionPolicy",
            resource=resource,
            missing=("ResourceNotFoundException",),
            LayerName=resource.rsplit(":", 1)[0],
            VersionNumber=int(parts[2]),
            **kw,
        )
        return _state(reply, "Policy", resource, f"the layer version policy of {resource}", account)
    if service == "s3":
        bucket = arn.resource.split("/", 1)[0]
        reply = await reader.call(
            "s3",
            "GetBucketPolicy",
            resource=f"arn:aws:s3:::{bucket}",
            missing=("NoSuchBucketPolicy",),
            Bucket=bucket,
            region=region or None,
        )
        state = _state(
            reply, "Policy", f"arn:aws:s3:::{bucket}", f"the bucket policy of {bucket}", None
        )
        if state.state == "read" or reply is NOT_FOUND:
            state.account = reader.account
        return state
    if service == "sqs":
        name = arn.resource
        got = await reader.call(
            "sqs",
            "GetQueueUrl",
            resource=resource,
            QueueName=name,
            **({"QueueOwnerAWSAccountId": account} if account else {}),
            **kw,
        )
        if not got:
            return ResourcePolicy(state="unreadable", account=account)
        reply = await reader.call(
            "sqs",
            "GetQueueAttributes",
            resource=resource,
            QueueUrl=got["QueueUrl"],
            AttributeNames=["Policy"],
            **kw,
        )
        return _attr_state(reply, resource, f"the queue policy of {resource}", account)
    if service == "sns":
        reply = await reader.call(
            "sns", "GetTopicAttributes", resource=resource, TopicArn=resource, **kw
        )
        return _attr_state(reply, resource, f"the topic policy of {resource}", account)
    if service == "kms" and arn.resource.startswith("key/"):
        reply = await reader.call(
            "kms", "GetKeyPolicy", resource=resource, KeyId=resource, PolicyName="default", **kw
        )
        return _state(reply, "Policy", resource, f"the key policy of {resource}", account)
    if service == "secretsmanager":
        reply = await reader.call(
            "secretsmanager", "GetResourcePolicy", resource=resource, SecretId=resource, **kw
        )
        return _state(
            reply, "ResourcePolicy", resource, f"the resource policy of {resource}", account
        )
    if service == "ecr" and arn.resource.startswith("repository/"):
        reply = await reader.call(
            "ecr",
            "GetRepositoryPolicy",
            resource=resource,
            missing=("RepositoryPolicyNotFoundException",),
            repositoryName=arn.resource.split("/", 1)[1],
            **({"registryId": account} if account else {}),
            **kw,
        )
        return _state(
            reply, "policyText", resource, f"the repository policy of {resource}", account
        )
    if service == "events" and arn.resource.startswith("event-bus/"):
        reply = await reader.call(
            "events", "DescribeEventBus", resource=resource, Name=resource, **kw
        )
        return _state(reply, "Policy", resource, f"the event bus policy of {resource}", account)
    return ResourcePolicy(state="not-applicable", account=account)


def _state(
    reply: Any, key: str, label: str, description: str, account: str | None
) -> ResourcePolicy:
    if reply is None:
        return ResourcePolicy(
            state="unreadable", label=label, account=account, description=description
        )
    document = _doc(reply.get(key)) if reply is not NOT_FOUND else None
    if document is None:
        return ResourcePolicy(state="none", label=label, account=account, description=description)
    return ResourcePolicy(
        state="read", document=document, label=label, account=account, description=description
    )


def _attr_state(reply: Any, label: str, description: str, account: str | None) -> ResourcePolicy:
    if reply is None:
        return ResourcePolicy(
            state="unreadable", label=label, account=account, description=description
        )
    attributes = reply.get("Attributes") or {}
    return _state(attributes, "Policy", label, description, account)
