"""Turn a parsed error plus the policies read for it into findings (pure).

The request the message describes is re-evaluated with `bot.iam.evaluate` over what was
read: the principal's identity policies and permissions boundary, the resource's policy
(or the role's trust policy for `sts:AssumeRole*`), and the organization's SCPs / RCPs
when they were read. The finding names the statement that decides it and the smallest
fix; where the message and the local verdict disagree, it says so.

With an authorization ID, AWS's own evaluation (IAM Toolbox
`GetRequestAuthorizationDetails`) is compared with the local one.
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from bot.checks.common import Ask, Loaded, decision_evidence, statements_of
from bot.explain.inputs import PrincipalPolicies, ResourcePolicy
from bot.explain.parser import ParsedError
from bot.iam import Policy, PolicySet, Request, evaluate
from bot.report import Evidence, Finding, Fix, Severity, Status
from bot.snapshot import Gap, NamedPolicy, OrgPolicies

CHECK = "explain"
CHECK_DETAILS = "explain-authorization-details"

#: IAM Toolbox check types → the policy types of CONTRACTS §1/§3
TOOLBOX_TYPES = {
    "SERVICE_CONTROL_POLICY": "scp",
    "RESOURCE_CONTROL_POLICY": "rcp",
    "VPC_ENDPOINT": "vpce",
    "RESOURCE": "resource",
    "PRINCIPAL": "identity",
    "PERMISSIONS_BOUNDARY": "boundary",
    "SESSION": "session",
}

TYPE_NAMES = {
    "identity": "an identity-based policy",
    "resource": "the resource-based policy",
    "boundary": "the permissions boundary",
    "session": "the session policy",
    "scp": "a service control policy",
    "rcp": "a resource control policy",
    "vpce": "a VPC endpoint policy",
    "trust": "the role trust policy",
}

ORG_NOT_EVALUATED = (
    "SCPs and RCPs were not evaluated (no [organization] reader is configured, or they "
    "could not be read)."
)


class ExplainInputs(BaseModel):
    """Everything read for one message."""

    principal: PrincipalPolicies = Field(default_factory=PrincipalPolicies)
    resource: ResourcePolicy = Field(default_factory=lambda: ResourcePolicy(state="not-applicable"))
    organization: OrgPolicies | None = None
    gaps: list[Gap] = Field(default_factory=list)
    #: merged GetRequestAuthorizationDetails pages; None: not called or failed (see gaps)
    authorization_details: dict[str, Any] | None = None
    #: the account and region the reads were made in (context keys)
    account: str | None = None
    region: str | None = None


def explain_findings(parsed: ParsedError, inputs: ExplainInputs) -> list[Finding]:
    """The findings for one parsed message (online `explain`)."""
    findings: list[Finding] = []
    if parsed.action is None:
        findings.append(_undecidable(parsed, "the message names no action"))
    elif parsed.principal is None or inputs.principal.kind == "unknown":
        findings.append(_config_guidance(parsed))
    else:
        findings.append(_evaluate(parsed, inputs))
    if parsed.authorization_id:
        findings.append(_toolbox_finding(parsed, inputs, findings[0]))
    return findings


# --------------------------------------------------------------------------- local evaluation


def _evaluate(
    parsed: ParsedError,
    inputs: ExplainInputs,
    *,
    extra_context: Mapping[str, str] | None = None,
) -> Finding:
    assert parsed.action is not None
    assert parsed.principal is not None
    action = parsed.action
    resource = parsed.resource if parsed.resource and parsed.resource.startswith("arn:") else "*"
    principal = inputs.principal
    loaded = Loaded()
    missing: list[str] = []
    identity: list[Policy] = []
    if principal.kind in ("role", "user"):
        if not principal.exists:
            return _finding(
                parsed,
                Status.FAIL,
                f"{principal.entity_arn or parsed.principal} does not exist",
                f"The principal {principal.entity_arn} could not be found: it was deleted or "
                "the ARN is wrong, so no policy can grant it anything.",
                denied_by=["identity"],
                fix=Fix(summary=f"Recreate {principal.entity_arn} or use an existing principal."),
            )
        if not principal.read:
            missing.append(f"the identity policies of {principal.entity_arn or parsed.principal}")
        for named in principal.identity:
            policy = loaded.parse(named.document, named.label)
            if policy is not None:
                identity.append(policy)
    boundary = None
    if principal.boundary is not None:
        boundary = loaded.parse(principal.boundary.document, principal.boundary.label)
    resource_policy = None
    res = inputs.resource
    if res.state == "read" and res.document is not None:
        resource_policy = loaded.parse(res.document, res.label or resource)
    elif res.state == "unreadable":
        missing.append(res.description or f"the resource policy of {resource}")
    scp = _org_levels(inputs.organization.scp if inputs.organization else None, loaded)
    rcp = _org_levels(inputs.organization.rcp if inputs.organization else None, loaded)
    missing.extend(loaded.missing)
    context: dict[str, str | list[str]] = {}
    if inputs.region:
        context["aws:RequestedRegion"] = inputs.region
    for key, value in principal.tags.items():
        context[f"aws:PrincipalTag/{key}"] = value
    context.update(extra_context or {})
    request = Request(
        principal=parsed.principal if principal.kind != "anonymous" else "*",
        action=action,
        resource=resource,
        resource_account=res.account or _arn_account(resource) or principal.account,
        context=context,
    )
    if principal.kind in ("service", "anonymous"):
        policies = PolicySet(resource=resource_policy, rcp=rcp)
    else:
        policies = PolicySet(
            identity=identity, resource=resource_policy, boundary=boundary, scp=scp, rcp=rcp
        )
    decision = evaluate(request, policies)
    ask = Ask(
        principal=parsed.principal,
        action=action,
        resource=resource,
        decision=decision,
        missing=missing,
        resource_policy_label=res.label,
    )
    denied_by = [t.value for t in decision.denied_by]
    said = _message_says(parsed)
    notes: list[str] = []
    if inputs.organization is None or inputs.organization.scp is None:
        notes.append(ORG_NOT_EVALUATED)
    if ask.allowed:
        unseen = _not_evaluated(parsed, inputs)
        detail = (
            f"{said} lambda-why's evaluation of the policies it read allows {action} on "
            f"{resource}, so the denial comes from something it could not evaluate: "
            f"{'; '.join(unseen)}."
        )
        if missing:
            detail += f" Not read: {'; '.join(missing)}."
        return _finding(
            parsed,
            Status.WARN,
            f"The policies read allow {action}; the denial comes from elsewhere",
            " ".join([detail, *notes]),
            denied_by=[parsed.policy_type] if parsed.policy_type else [],
            evidence=_allow_evidence(ask, loaded),
            fix=_fix_for_unseen(parsed),
        )
    if not ask.decided:
        return _finding(
            parsed,
            Status.UNKNOWN,
            f"Could not decide whether {_short(parsed.principal)} may {action}",
            f"{said} Could not be decided: {'; '.join(missing)} could not be read. "
            + " ".join(notes),
            denied_by=denied_by,
            evidence=decision_evidence([ask], loaded),
        )
    how = "explicitly denies" if ask.explicit else "does not allow"
    where = ", ".join(TYPE_NAMES.get(t, t) for t in denied_by) or "no policy"
    agreement = _agreement(parsed, ask)
    detail = (
        f"{said} Evaluating the policies read: {where} {how} {action} on {resource} for "
        f"{parsed.principal}. {agreement}"
    )
    return _finding(
        parsed,
        Status.FAIL,
        f"{_short(parsed.principal)} may not {action}",
        " ".join([detail.strip(), *notes]),
        denied_by=denied_by,
        evidence=decision_evidence([ask], loaded),
        fix=_fix(parsed, ask, inputs, loaded),
    )


def _org_levels(
    levels: list[list[NamedPolicy]] | None, loaded: Loaded
) -> list[list[Policy]] | None:
    if levels is None:
        return None
    out: list[list[Policy]] = []
    for level in levels:
        parsed = [loaded.parse(n.document, n.label) for n in level]
        out.append([p for p in parsed if p is not None])
    return out


def _message_says(parsed: ParsedError) -> str:
    if parsed.decision is None:
        return "The message does not say which policy denied it."
    kind = "an explicit deny" if parsed.decision == "explicit_deny" else "an implicit deny"
    where = TYPE_NAMES.get(parsed.policy_type or "", "a policy it does not name")
    text = f"The message reports {kind} in {where}"
    if parsed.via_policy_type:
        text += f" (through {TYPE_NAMES.get(parsed.via_policy_type, parsed.via_policy_type)})"
    if parsed.policy_arn:
        text += f": {parsed.policy_arn}"
    return text + "."


def _agreement(parsed: ParsedError, ask: Ask) -> str:
    if parsed.decision is None:
        return ""
    local = "explicit_deny" if ask.explicit else "implicit_deny"
    types = ask.denied_by
    message_type = "resource" if parsed.policy_type == "trust" else parsed.policy_type
    if local == parsed.decision and (message_type is None or message_type in types):
        return "This agrees with the message."
    if message_type in ("vpce", "session") and message_type not in types:
        return (
            f"The message blames {TYPE_NAMES[message_type]}, which lambda-why cannot read; "
            "the policies it read deny the request too."
        )
    return (
        f"The message says {parsed.decision.replace('_', ' ')} in "
        f"{TYPE_NAMES.get(parsed.policy_type or '', 'an unnamed policy')}; the local verdict is "
        f"{local.replace('_', ' ')} in {', '.join(types) or 'no policy'}. The policies may have "
        "changed since the error, or the request carried context (source IP, VPC endpoint, "
        "tags) that changes the outcome."
    )


def _not_evaluated(parsed: ParsedError, inputs: ExplainInputs) -> list[str]:
    out = ["session policies passed when the role was assumed", "VPC endpoint policies"]
    if inputs.organization is None or inputs.organization.scp is None:
        out.insert(0, "service control policies (not configured)")
    out.append("condition keys of the original request (source IP, VPC endpoint, tags)")
    if parsed.policy_type in ("session", "vpce", "scp", "rcp"):
        out.insert(0, f"the {TYPE_NAMES[parsed.policy_type][2:]} the message names")
    return out


def _fix_for_unseen(parsed: ParsedError) -> Fix | None:
    if parsed.policy_type == "session":
        return Fix(
            summary="Widen the session policy passed to AssumeRole/GetFederationToken (the "
            "Policy/PolicyArns parameters) to include the action, or stop passing one."
        )
    if parsed.policy_type == "vpce":
        return Fix(
            summary=f"Allow {parsed.action} in the policy of the VPC endpoint the request "
            "went through (aws ec2 modify-vpc-endpoint --policy-document ...)."
        )
    if parsed.policy_type in ("scp", "rcp"):
        return Fix(
            summary=f"An administrator of the organization's management account must allow "
            f"{parsed.action} in the {parsed.policy_type.upper()}s on the path to this account.",
            commands=["aws organizations list-policies-for-target --target-id ACCOUNT_ID "
                      f"--filter {'SERVICE' if parsed.policy_type == 'scp' else 'RESOURCE'}"
                      "_CONTROL_POLICY"],
        )  # fmt: skip
    return None


def _allow_evidence(ask: Ask, loaded: Loaded) -> list[Evidence]:
    out = []
    for ref in ask.decision.statements:
        stmt = loaded.statement(ref)
        out.append(
            Evidence(
                policy=ref.policy,
                sid=ref.sid,
                text=json.dumps(stmt, separators=(",", ":")) if stmt else ref.effect,
            )
        )
    return out


# --------------------------------------------------------------------------- fixes


def _fix(parsed: ParsedError, ask: Ask, inputs: ExplainInputs, loaded: Loaded) -> Fix:
    principal = inputs.principal
    entity = principal.entity_arn or parsed.principal or ""
    name = entity.rsplit("/", 1)[-1]
    action = ask.action
    resource = ask.resource
    summaries: list[str] = []
    commands: list[str] = []
    policy: dict[str, Any] | None = None
    denies = [ref for ref in ask.decision.statements if ref.effect == "Deny"]
    for ref in denies:
        where = f"statement {ref.sid!r}" if ref.sid else f"statement #{ref.index + 1}"
        kind = ref.policy_type.value if ref.policy_type else "policy"
        if kind in ("scp", "rcp"):
            summaries.append(
                f"{where} of the {kind.upper()} {ref.policy} denies {action}; an administrator "
                "of the organization's management account must narrow it."
            )
        else:
            summaries.append(
                f"Remove or narrow {where} of {ref.policy} ({kind}): it explicitly denies "
                f"{action}; no Allow can override it."
            )
    if not ask.explicit:
        types = ask.denied_by
        allow = {"Effect": "Allow", "Action": action, "Resource": resource}
        if "identity" in types and principal.kind in ("role", "user"):
            policy = {"Version": "2012-10-17", "Statement": [{"Sid": "LambdaWhyFix", **allow}]}
            doc = shlex.quote(json.dumps(policy, separators=(",", ":")))
            verb = (
                "put-role-policy --role-name"
                if principal.kind == "role"
                else ("put-user-policy --user-name")
            )
            summaries.append(f"Allow {name} {action} on {resource} in an identity policy.")
            commands.append(
                f"aws iam {verb} {shlex.quote(name)} --policy-name lambda-why-fix "
                f"--policy-document {doc}"
            )
        if "boundary" in types and principal.boundary is not None:
            summaries.append(
                f"The permissions boundary {principal.boundary.label} does not allow {action}; "
                "whoever manages it must add the action (an identity policy can't help)."
            )
        if "resource" in types:
            summaries.append(_resource_fix_text(inputs.resource, entity, action))
            statement = {
                "Sid": "LambdaWhyFix",
                "Effect": "Allow",
                "Principal": _principal_block(entity, principal.kind),
                "Action": action,
                "Resource": resource,
            }
            if policy is None:
                document = dict(inputs.resource.document or {"Version": "2012-10-17"})
                document["Statement"] = [*statements_of(inputs.resource.document), statement]
                policy = document
            commands.extend(_resource_commands(inputs.resource, resource, policy))
        for kind in ("scp", "rcp"):
            if kind in types:
                summaries.append(
                    f"No {kind.upper()} on the path from the organization root allows {action}; "
                    "an administrator of the management account must allow it at every level."
                )
    return Fix(summary=" ".join(summaries) or f"Allow {action} for {entity}.", policy=policy,
               commands=commands)  # fmt: skip


def _principal_block(entity: str, kind: str) -> dict[str, str]:
    if kind == "service":
        return {"Service": entity}
    if kind == "anonymous":
        return {"AWS": "*"}
    return {"AWS": entity}


def _resource_fix_text(res: ResourcePolicy, entity: str, action: str) -> str:
    where = res.description or "the resource's policy"
    if res.state == "none":
        return f"{where[0].upper() + where[1:]} does not exist; add one allowing {entity} {action}."
    return f"{where[0].upper() + where[1:]} does not allow {entity} {action}; add a statement."


def _resource_commands(res: ResourcePolicy, resource: str, policy: Mapping[str, Any]) -> list[str]:
    doc = shlex.quote(json.dumps(policy, separators=(",", ":")))
    label = res.label or resource
    if label.startswith("trust policy of "):
        role = label.removeprefix("trust policy of ").rsplit("/", 1)[-1]
        return [
            f"aws iam update-assume-role-policy --role-name {shlex.quote(role)} "
            f"--policy-document {doc}"
        ]
    parts = resource.split(":")
    service = parts[2] if len(parts) > 2 else ""
    if service == "s3":
        bucket = parts[5].split("/", 1)[0] if len(parts) > 5 else resource
        return [f"aws s3api put-bucket-policy --bucket {shlex.quote(bucket)} --policy {doc}"]
    if service == "kms":
        return [
            f"aws kms put-key-policy --key-id {shlex.quote(resource)} --policy-name default "
            f"--policy {doc}"
        ]
    if service == "sns":
        return [
            f"aws sns set-topic-attributes --topic-arn {shlex.quote(resource)} "
            f"--attribute-name Policy --attribute-value {doc}"
        ]
    if service == "secretsmanager":
        return [
            f"aws secretsmanager put-resource-policy --secret-id {shlex.quote(resource)} "
            f"--resource-policy {doc}"
        ]
    if service == "ecr":
        repo = resource.split("repository/", 1)[-1]
        return [
            f"aws ecr set-repository-policy --repository-name {shlex.quote(repo)} "
            f"--policy-text {doc}"
        ]
    if service == "lambda" and ":function:" in resource:
        return [
            f"aws lambda add-permission --function-name {shlex.quote(resource)} "
            "--statement-id lambda-why-fix --action ACTION --principal PRINCIPAL"
        ]
    return []  # fmt: skip


# --------------------------------------------------------------------------- no principal


#: what Lambda's own configuration errors need, by action (execution-role permissions)
_CONFIG_FIXES = {
    "ec2": (
        "The execution role needs ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces "
        "and ec2:DeleteNetworkInterface to attach the function to a VPC (and no SCP or "
        "boundary may deny them).",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    ),
    "sqs": (
        "The execution role needs sqs:ReceiveMessage, sqs:DeleteMessage and "
        "sqs:GetQueueAttributes on the queue (and the queue policy and its KMS key must allow "
        "the role).",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    ),
    "kinesis": (
        "The execution role needs kinesis:GetRecords, GetShardIterator, DescribeStream, "
        "DescribeStreamSummary, ListShards and ListStreams on the stream.",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
    ),
    "dynamodb": (
        "The execution role needs dynamodb:GetRecords, GetShardIterator, DescribeStream and "
        "ListStreams on the table's stream.",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    ),
    "sts": (
        "The execution role's trust policy must allow the service principal "
        "lambda.amazonaws.com to call sts:AssumeRole (and the role must exist).",
        None,
    ),
    "kms": (
        "The execution role must be allowed kms:Decrypt on the function's key, by its identity "
        "policies and by the key policy; if the role was recreated, Lambda's grant is stale: "
        "update the function's configuration to re-create it.",
        None,
    ),
    "ecr": (
        "The ECR repository policy must allow lambda.amazonaws.com ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer (for another account's repository, with aws:sourceArn "
        "conditions naming the function's account).",
        None,
    ),
}


def _config_guidance(parsed: ParsedError) -> Finding:
    service = (parsed.action or ":").split(":", 1)[0]
    text, managed = _CONFIG_FIXES.get(
        service,
        (f"The principal needs {parsed.action} on {parsed.resource or 'the resource'}.", None),
    )
    commands = []
    if managed:
        commands.append(f"aws iam attach-role-policy --role-name ROLE_NAME --policy-arn {managed}")
    if service == "sts":
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        commands.append(
            "aws iam update-assume-role-policy --role-name ROLE_NAME --policy-document "
            + shlex.quote(json.dumps(trust, separators=(",", ":")))
        )
    return _finding(
        parsed,
        Status.UNKNOWN,
        f"{parsed.action} is denied to the function's execution role",
        "The message names no principal: it is about the function's execution role. "
        f"{text} Run `lambda-why check FUNCTION` to evaluate the role's policies.",
        fix=Fix(summary=text, commands=commands),
    )


def _undecidable(parsed: ParsedError, why: str) -> Finding:
    return _finding(
        parsed,
        Status.UNKNOWN,
        "Access denied, but the message does not say for what",
        f"Could not be decided: {why}. Look for the same error in CloudTrail (errorCode "
        "AccessDenied) to find the action and the caller, or decode EC2's message with "
        "aws sts decode-authorization-message.",
    )


# --------------------------------------------------------------------------- IAM Toolbox


def _toolbox_finding(parsed: ParsedError, inputs: ExplainInputs, local: Finding) -> Finding:
    details = inputs.authorization_details
    if details is None:
        gap = next(
            (g for g in inputs.gaps if g.operation == "iam:GetRequestAuthorizationDetails"), None
        )
        error = gap.error if gap else "not called"
        return _finding(
            parsed,
            Status.UNKNOWN,
            "AWS's record of the denial could not be read",
            f"Could not be decided: GetRequestAuthorizationDetails for authorization ID "
            f"{parsed.authorization_id} failed ({error}). It needs "
            "iam:GetRequestAuthorizationDetails, the region of the denial, and is kept for "
            "at least 24 hours.",
            check=CHECK_DETAILS,
        )
    evaluations = [e for e in details.get("evaluations") or [] if isinstance(e, dict)]
    relevant = [
        e for e in evaluations
        if parsed.action is None or str(e.get("action", "")).lower() == parsed.action.lower()
    ] or evaluations  # fmt: skip
    aws_types: list[str] = []
    evidence: list[Evidence] = []
    effects: list[str] = []
    for ev in relevant:
        effects.append(str(ev.get("evaluatedEffect", "")))
        for check in ev.get("checks") or []:
            effect = check.get("evaluatedEffect")
            kind = TOOLBOX_TYPES.get(str(check.get("checkType")), str(check.get("checkType")))
            if effect in ("EXPLICIT_DENY", "IMPLICIT_DENY"):
                aws_types.append(kind)
                for matched in check.get("matchedPolicies") or []:
                    for statement in matched.get("matchedStatements") or [{}]:
                        evidence.append(
                            Evidence(
                                policy=matched.get("uri"),
                                sid=statement.get("sid"),
                                text=f"{kind}: {effect} ({statement.get('evaluatedEffect', '')})",
                            )
                        )
                if not check.get("matchedPolicies"):
                    evidence.append(
                        Evidence(policy=check.get("targetArn"), text=f"{kind}: {effect}")
                    )
    aws_types = list(dict.fromkeys(aws_types))
    aws_verdict = (
        "explicit_deny" if "EXPLICIT_DENY" in effects
        else "implicit_deny" if "IMPLICIT_DENY" in effects
        else "allowed" if effects else "unknown"
    )  # fmt: skip
    local_types = list(local.denied_by)
    local_verdict = {
        Status.FAIL: "denied",
        Status.WARN: "allowed",
        Status.UNKNOWN: "undecided",
        Status.PASS: "allowed",
    }[local.status]
    differences: list[str] = []
    if local_verdict == "allowed" and aws_verdict != "allowed":
        differences.append(f"AWS recorded {aws_verdict.replace('_', ' ')}; lambda-why allows")
    for t in aws_types:
        if t not in local_types:
            differences.append(f"AWS denied in {TYPE_NAMES.get(t, t)}; lambda-why did not")
    for t in local_types:
        if t not in aws_types and aws_types:
            differences.append(f"lambda-why denies in {TYPE_NAMES.get(t, t)}; AWS did not")
    summary = (
        f"AWS's evaluation ({parsed.authorization_id}): {aws_verdict.replace('_', ' ')} by "
        f"{', '.join(aws_types) or 'no check'}."
    )
    if differences:
        return _finding(
            parsed,
            Status.WARN,
            "AWS's evaluation and lambda-why's differ",
            f"{summary} Differences: {'; '.join(differences)}.",
            denied_by=aws_types,
            evidence=evidence,
            check=CHECK_DETAILS,
        )
    return _finding(
        parsed,
        Status.PASS,
        "AWS's evaluation agrees with lambda-why's",
        summary,
        denied_by=aws_types,
        evidence=evidence,
        check=CHECK_DETAILS,
        severity=Severity.INFO,
    )


# --------------------------------------------------------------------------- helpers


def _finding(
    parsed: ParsedError,
    status: Status,
    title: str,
    detail: str,
    *,
    denied_by: Sequence[str] = (),
    evidence: Sequence[Evidence] = (),
    fix: Fix | None = None,
    check: str = CHECK,
    severity: Severity | None = None,
) -> Finding:
    if severity is None:
        severity = {
            Status.FAIL: Severity.HIGH,
            Status.WARN: Severity.MEDIUM,
            Status.UNKNOWN: Severity.MEDIUM,
            Status.PASS: Severity.INFO,
        }[status]
    return Finding(
        check=check,
        status=status,
        severity=severity,
        title=title,
        detail=detail,
        principal=parsed.principal,
        actions=list(parsed.actions or ([parsed.action] if parsed.action else [])),
        resources=[parsed.resource] if parsed.resource else [],
        denied_by=_contract_types(denied_by),
        evidence=list(evidence),
        fix=fix,
    )


#: the policy types `denied_by` may hold (CONTRACTS §1)
_CONTRACT_TYPES = ("identity", "resource", "boundary", "session", "scp", "rcp")


def _contract_types(types: Sequence[str]) -> list[str]:
    out: list[str] = []
    for raw in types:
        t = "resource" if raw == "trust" else raw
        if t in _CONTRACT_TYPES and t not in out:
            out.append(t)
    return out


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn.startswith("arn:") else arn


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) > 4 and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None
