"""The smallest change that makes a denial go away: least-privilege JSON and `aws` commands.

Who must change what depends on *which* policy type denies:

- the role's identity policies lack an Allow: add one scoped to the exact ARNs
  (`aws iam put-role-policy`), or attach the AWS managed policy built for the feature;
- a Deny in the role's own policies: remove or narrow that statement;
- the permissions boundary or an SCP/RCP: an identity policy cannot help; whoever owns the
  boundary / the organization's administrators must change it;
- a resource policy (cross-account source, key policy): its owner adds a statement.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.checks.common import (
    Ask,
    RolePolicies,
    json_compact,
    level_blocks,
    statements_of,
    unique,
)
from bot.report import Fix
from bot.snapshot import NamedPolicy, Snapshot

#: AWS managed policies that grant exactly a Lambda feature's execution-role permissions
MANAGED = {
    "logs": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "vpc": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "sqs": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "kinesis": "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
    "dynamodb": "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    "msk": "arn:aws:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole",
    "xray": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}


def q(value: str) -> str:
    """Shell-quote one argument."""
    return shlex.quote(value)


def sid_for(text: str) -> str:
    """A statement id from free text: alphanumerics only (IAM's rule)."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)[:100]


def allow_statements(asks: Sequence[Ask], sid: str) -> list[dict[str, Any]]:
    """Allow statements for the asked actions on the asked resources, grouped by resources."""
    by_resources: dict[tuple[str, ...], list[str]] = {}
    per_action: dict[str, list[str]] = {}
    for ask in asks:
        per_action.setdefault(ask.action, [])
        if ask.resource not in per_action[ask.action]:
            per_action[ask.action].append(ask.resource)
    for action, resources in per_action.items():
        by_resources.setdefault(tuple(resources), []).append(action)
    statements: list[dict[str, Any]] = []
    for n, (targets, names) in enumerate(by_resources.items()):
        statements.append(
            {
                "Sid": sid if n == 0 else f"{sid}{n + 1}",
                "Effect": "Allow",
                "Action": names[0] if len(names) == 1 else names,
                "Resource": targets[0] if len(targets) == 1 else list(targets),
            }
        )
    return statements


def policy_document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


@dataclass
class ResourceSide:
    """How the owner of a resource policy would add a statement (for cross-account denials)."""

    owner: str  # e.g. "the queue's owner (account 222222222222)"
    label: str  # what the policy is called in the summary, e.g. "queue policy of ..."
    commands: list[str]
    statement: dict[str, Any] | None = None


def _without(document: Mapping[str, Any], drop: Sequence[int]) -> dict[str, Any]:
    kept = [s for i, s in enumerate(statements_of(document)) if i not in set(drop)]
    out = {k: v for k, v in document.items() if k != "Statement"}
    out["Statement"] = kept
    out.setdefault("Version", "2012-10-17")
    return out


def _org_policy_id(label: str) -> str | None:
    tail = label.rsplit("/", 1)[-1]
    return tail if tail.startswith("p-") else None


def role_fix(
    snapshot: Snapshot,
    rp: RolePolicies,
    failing: Sequence[Ask],
    *,
    purpose: str,
    sid: str,
    managed: str | None = None,
    resource_side: ResourceSide | None = None,
) -> Fix:
    """Fix for permissions the execution role lacks; `purpose` ends the summary sentence."""
    denied = [a for a in failing if not a.allowed]
    summaries: list[str] = []
    commands: list[str] = []
    policy: dict[str, Any] | None = None
    role = rp.role_name
    actions = unique(a.action for a in denied)
    action_text = ", ".join(actions)

    explicit_refs = [
        (a, ref)
        for a in denied
        if a.explicit
        for ref in a.decision.statements
        if ref.effect == "Deny"
    ]
    org_kinds = sorted({t for a in denied for t in a.denied_by if t in ("scp", "rcp")})
    boundary_blocks = any("boundary" in a.denied_by for a in denied)
    identity_lacks = any((not a.explicit) and "identity" in a.denied_by for a in denied)
    resource_lacks = any("resource" in a.denied_by for a in denied)

    # 1. organization policies: nothing in the account can override them
    for kind in org_kinds:
        refs = [
            ref
            for a, ref in explicit_refs
            if ref.policy_type is not None and ref.policy_type.value == kind
        ]
        refs += [
            ref
            for a, ref in explicit_refs
            if ref.policy_type is None and kind in a.denied_by and _org_policy_id(ref.policy)
        ]
        names = unique(ref.policy for ref in refs)
        mgmt = snapshot.organization.management_account if snapshot.organization else None
        who = (
            f"an administrator of the organization's management account {mgmt}"
            if mgmt
            else "an administrator of the organization's management account"
        )
        long = "service control policy" if kind == "scp" else "resource control policy"
        if names:
            summaries.append(
                f"The {long} {', '.join(names)} denies {action_text}; the role's identity "
                f"policies can't help. {who[0].upper() + who[1:]} must narrow that Deny (for "
                f"example exempt {rp.role_arn} with an aws:PrincipalArn condition) or move the "
                "account out of its scope."
            )
            for name in names:
                pid = _org_policy_id(name)
                if pid:
                    commands.append(f"aws organizations describe-policy --policy-id {q(pid)}")
                    commands.append(
                        f"aws organizations update-policy --policy-id {q(pid)} "
                        "--content file://scp-without-the-deny.json"
                    )
        else:
            levels = rp.scp if kind == "scp" else rp.rcp
            blocking = [
                (depth, level)
                for depth, level in enumerate(levels or [])
                if any(level_blocks(a, kind, level) for a in denied)
            ]
            where = (
                "; ".join(
                    f"level {depth} ({', '.join(p.label for p in level) or 'no policies'})"
                    for depth, level in blocking
                )
                or f"the path from the organization root to account {snapshot.account}"
            )
            summaries.append(
                f"No {long} at {where} allows {action_text}; the role's identity policies "
                f"can't help. {who[0].upper() + who[1:]} must add an Allow for these actions "
                "there (or attach FullAWSAccess)."
            )
            allow = allow_statements(denied, sid + kind.upper())
            if kind == "rcp":
                allow = [{**st, "Principal": "*"} for st in allow]
            for _, level in blocking:
                target = next((p for p in level if _org_policy_id(p.label)), None)
                if target is None:
                    continue
                document = rp.loaded.documents.get(target.label)
                new_doc = resource_policy_with(document, allow[0])
                new_doc["Statement"] = [*statements_of(document), *allow]
                policy = policy or policy_document(allow)
                commands.append(
                    f"aws organizations update-policy --policy-id "
                    f"{q(_org_policy_id(target.label) or '')} --content {q(json_compact(new_doc))}"
                )

    # 2. permissions boundary
    if boundary_blocks and rp.boundary_named is not None:
        bn = rp.boundary_named
        if any(ref.policy == bn.label for _, ref in explicit_refs):
            summaries.append(
                f"The permissions boundary {bn.label} explicitly denies {action_text}; the "
                f"identity policy can't help. Whoever manages the boundary must remove that "
                f"Deny, or remove the boundary from {role}."
            )
        else:
            summaries.append(
                f"The permissions boundary {bn.label} does not allow {action_text}; the "
                "identity policy can't help. Whoever manages the boundary must add these "
                f"actions to it (or remove the boundary from {role})."
            )
        if bn.arn and bn.kind != "aws-managed" and bn.document is not None:
            drop = [ref.index for _, ref in explicit_refs if ref.policy == bn.label]
            new_doc = _without(bn.document, drop)
            if not any(ref.policy == bn.label for _, ref in explicit_refs):
                new_doc["Statement"] = [
                    *statements_of(new_doc),
                    *allow_statements(denied, sid + "Boundary"),
                ]
            commands.append(
                f"aws iam create-policy-version --policy-arn {q(bn.arn)} "
                f"--policy-document {q(json_compact(new_doc))} --set-as-default"
            )
        commands.append(f"aws iam delete-role-permissions-boundary --role-name {q(role)}")

    # 3. a Deny in the role's own policies
    identity_denies = [
        ref
        for _, ref in explicit_refs
        if (ref.policy_type is not None and ref.policy_type.value == "identity")
        or (ref.policy_type is None and ref.policy in rp.named)
    ]
    for ref in _unique_refs(identity_denies):
        named = rp.named.get(ref.policy)
        where = f"statement {ref.sid!r}" if ref.sid else f"statement #{ref.index + 1}"
        summaries.append(
            f"Remove or narrow {where} of {ref.policy}: it explicitly denies {action_text} "
            f"to {role}; adding an Allow can't override it."
        )
        if named is not None and named.document is not None:
            commands.extend(_rewrite_policy_commands(role, named, [ref.index]))

    # 4. the role simply lacks an Allow
    if identity_lacks and not identity_denies:
        stmts = allow_statements(denied, sid)
        policy = policy_document(stmts)
        text = (
            f"Allow {role} {action_text} on "
            f"{', '.join(unique(a.resource for a in denied))} {purpose}"
        ).strip()
        if managed:
            text += f" (or attach {managed.rsplit('/', 1)[-1]})"
        summaries.insert(0, text + ".")
        commands.insert(
            0,
            f"aws iam put-role-policy --role-name {q(role)} --policy-name {q('lambda-why-' + sid)} "
            f"--policy-document {q(json_compact(policy))}",
        )
        if managed:
            commands.insert(
                1, f"aws iam attach-role-policy --role-name {q(role)} --policy-arn {q(managed)}"
            )

    # 5. the resource's own policy
    if resource_lacks and resource_side is not None:
        explicit_res = [
            ref
            for _, ref in explicit_refs
            if ref.policy_type is not None and ref.policy_type.value == "resource"
        ]
        if explicit_res:
            summaries.append(
                f"The {resource_side.label} explicitly denies {action_text} to {role}; "
                f"{resource_side.owner} must remove or narrow that Deny."
            )
        elif identity_lacks and all(
            (a.resource.split(":")[4] if a.resource.count(":") >= 5 else "")
            in ("", rp.role_arn.split(":")[4])
            for a in denied
        ):
            # same account: either side may grant; the role's policy is the usual place
            summaries.append(
                f"Alternatively, {resource_side.owner} can allow {role} in the "
                f"{resource_side.label}."
            )
        else:
            summaries.append(
                f"The {resource_side.label} does not allow {role} {action_text}; "
                f"{resource_side.owner} must add a statement allowing it."
            )
            if resource_side.statement is not None and policy is None:
                policy = policy_document([resource_side.statement])
            commands.extend(resource_side.commands)
    if (
        policy is None
        and not org_kinds
        and not boundary_blocks
        and not identity_denies
        and not resource_lacks
    ):
        policy = policy_document(allow_statements(denied, sid))
    return Fix(
        summary=" ".join(summaries) or f"Allow {role} {action_text}",
        policy=policy,
        commands=unique(commands),
    )


def _unique_refs(refs: Sequence[Any]) -> list[Any]:
    seen: set[tuple[str, int]] = set()
    out = []
    for ref in refs:
        key = (ref.policy, ref.index)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def _rewrite_policy_commands(role: str, named: NamedPolicy, drop: Sequence[int]) -> list[str]:
    """Commands that store `named` without the statements at `drop`."""
    assert named.document is not None
    doc = _without(named.document, drop)
    if named.kind == "inline":
        return [
            f"aws iam put-role-policy --role-name {q(role)} --policy-name {q(named.name)} "
            f"--policy-document {q(json_compact(doc))}"
        ]
    if named.kind == "managed" and named.arn:
        return [
            f"aws iam create-policy-version --policy-arn {q(named.arn)} "
            f"--policy-document {q(json_compact(doc))} --set-as-default"
        ]
    if named.arn:  # an AWS managed policy cannot be edited: detach it
        return [f"aws iam detach-role-policy --role-name {q(role)} --policy-arn {q(named.arn)}"]
    return []


def resource_policy_with(
    document: Mapping[str, Any] | None, statement: Mapping[str, Any]
) -> dict[str, Any]:
    """`document` (or an empty policy) with `statement` appended."""
    base: dict[str, Any] = dict(document) if document else {"Version": "2012-10-17"}
    base["Statement"] = [*statements_of(document), dict(statement)]
    base.setdefault("Version", "2012-10-17")
    return base


def role_principal_statement(
    sid: str, role_arn: str, actions: Sequence[str], resource: str
) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": actions[0] if len(actions) == 1 else list(actions),
        "Resource": resource,
    }


def sqs_queue_url(queue_arn: str) -> str:
    parts = queue_arn.split(":")
    region, account, name = parts[3], parts[4], parts[5]
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def resource_side_for(  # noqa: PLR0917
    service: str,
    resource_arn: str,
    document: Mapping[str, Any] | None,
    statement: dict[str, Any],
    role_arn: str,
    actions: Sequence[str],
) -> ResourceSide:
    """How the owner of `resource_arn` adds `statement` to its resource policy."""
    account = resource_arn.split(":")[4] if resource_arn.count(":") >= 5 else ""
    owner = f"the owner of {resource_arn}" + (f" (account {account})" if account else "")
    new_doc = resource_policy_with(document, statement)
    commands: list[str] = []
    label = f"resource policy of {resource_arn}"
    if service == "sqs":
        label = f"queue policy of {resource_arn}"
        commands.append(
            f"aws sqs set-queue-attributes --queue-url {q(sqs_queue_url(resource_arn))} "
            f"--attributes {q(json.dumps({'Policy': json_compact(new_doc)}))}"
        )
    elif service == "sns":
        label = f"topic policy of {resource_arn}"
        commands.append(
            f"aws sns set-topic-attributes --topic-arn {q(resource_arn)} --attribute-name Policy "
            f"--attribute-value {q(json_compact(new_doc))}"
        )
    elif service == "kinesis":
        commands.append(
            f"aws kinesis put-resource-policy --resource-arn {q(resource_arn)} "
            f"--policy {q(json_compact(new_doc))}"
        )
    elif service == "kms":
        label = f"key policy of {resource_arn}"
        commands.append(
            f"aws kms create-grant --key-id {q(resource_arn)} --grantee-principal {q(role_arn)} "
            f"--operations {' '.join(a.split(':', 1)[1] for a in actions)}"
        )
        commands.append(
            f"aws kms put-key-policy --key-id {q(resource_arn)} --policy-name default "
            f"--policy {q(json_compact(new_doc))}"
        )
    elif service == "s3":
        bucket = resource_arn.split(":::", 1)[-1].split("/", 1)[0]
        label = f"bucket policy of {bucket}"
        commands.append(
            f"aws s3api put-bucket-policy --bucket {q(bucket)} --policy {q(json_compact(new_doc))}"
        )
    elif service == "events":
        bus = resource_arn.rsplit("/", 1)[-1]
        commands.append(
            f"aws events put-permission --event-bus-name {q(bus)} "
            f"--policy {q(json_compact(new_doc))}"
        )
    elif service == "efs":
        label = f"file system policy of {resource_arn}"
        commands.append(
            f"aws efs put-file-system-policy --file-system-id {q(resource_arn.rsplit('/', 1)[-1])} "
            f"--policy {q(json_compact(new_doc))}"
        )
    elif service == "lambda":
        label = f"resource policy of {resource_arn}"
        commands.append(
            f"aws lambda add-permission --function-name {q(resource_arn)} "
            f"--statement-id {q(statement.get('Sid', 'lambda-why'))} "
            "--action lambda:InvokeFunction "
            f"--principal {q(role_arn)}"
        )
    return ResourceSide(owner=owner, label=label, commands=commands, statement=statement)
