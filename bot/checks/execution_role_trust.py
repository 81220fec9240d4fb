"""Lambda must be able to assume the execution role.

The role's trust policy is evaluated as a resource policy for
`lambda.amazonaws.com` calling `sts:AssumeRole`, with the function's `aws:SourceAccount`
and `aws:SourceArn` in the context (Lambda sends both).
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
"""

from __future__ import annotations

from bot.checks.common import (
    Loaded,
    allow_evidence,
    ask_principal,
    decision_evidence,
    explain_denial,
    json_compact,
    pass_finding,
    role_missing,
    statements_of,
    unknown_finding,
)
from bot.checks.fixes import q
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import Snapshot

ID = "execution-role-trust"
LAMBDA = "lambda.amazonaws.com"


def run(snapshot: Snapshot) -> list[Finding]:
    fn = snapshot.function
    role = snapshot.role
    if role is None:
        gap = snapshot.gap_for("iam:GetRole")
        why = f"the execution role {fn.role_arn} could not be read"
        if gap is not None:
            why += f" ({gap.operation}: {gap.error})"
        return [
            unknown_finding(
                ID,
                "Execution role trust policy could not be checked",
                why,
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[fn.role_arn],
                severity=Severity.HIGH,
            )
        ]
    if not role.exists and not role_missing(snapshot):
        gap = snapshot.gap_for("iam:GetRole")
        return [
            unknown_finding(
                ID,
                "Execution role could not be read",
                f"the execution role {fn.role_arn} could not be read"
                + (f" ({gap.operation}: {gap.error})" if gap is not None else ""),
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[fn.role_arn],
                severity=Severity.HIGH,
            )
        ]
    if not role.exists:
        return [
            Finding(
                check=ID,
                status=Status.FAIL,
                severity=Severity.HIGH,
                title="Execution role does not exist",
                detail=(
                    f"The function's execution role {fn.role_arn} does not exist (deleted or "
                    "never created). Lambda cannot assume it, so every invocation fails with "
                    "'The role defined for the function cannot be assumed by Lambda'."
                ),
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[fn.role_arn],
                denied_by=["resource"],
                fix=Fix(
                    summary=(
                        f"Re-create the role {role.name} with a trust policy for "
                        f"{LAMBDA}, or point the function at an existing execution role."
                    ),
                    policy=_trust_document(snapshot),
                    commands=[
                        f"aws iam create-role --role-name {q(role.name)} --path {q(role.path)} "
                        "--assume-role-policy-document "
                        + q(json_compact(_trust_document(snapshot))),
                        f"aws lambda update-function-configuration --function-name {q(fn.arn)} "
                        "--role <existing-execution-role-arn>",
                    ],
                ),
            )
        ]
    if role.trust_policy is None:
        gap = snapshot.gap_for("iam:GetRole")
        why = "the role's trust policy was not read"
        if gap is not None:
            why += f" ({gap.operation}: {gap.error})"
        return [
            unknown_finding(
                ID,
                "Execution role trust policy could not be checked",
                why,
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[role.arn],
                severity=Severity.HIGH,
            )
        ]
    loaded = Loaded()
    label = f"trust policy of {role.arn}"
    ask = ask_principal(
        LAMBDA,
        "sts:AssumeRole",
        role.arn,
        role.trust_policy,
        loaded=loaded,
        resource_label=label,
        resource_account=snapshot.account,
        context={
            "aws:SourceAccount": snapshot.account,
            "aws:SourceArn": fn.arn,
            "aws:PrincipalServiceName": LAMBDA,
            "aws:PrincipalIsAWSService": "true",
        },
    )
    if ask.allowed:
        return [
            pass_finding(
                ID,
                "Lambda can assume the execution role",
                f"The trust policy of {role.name} allows {LAMBDA} to call sts:AssumeRole.",
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[role.arn],
                evidence=allow_evidence([ask], loaded),
            )
        ]
    if not ask.decided:
        return [
            unknown_finding(
                ID,
                "Execution role trust policy could not be checked",
                "; ".join(ask.missing),
                principal=LAMBDA,
                actions=["sts:AssumeRole"],
                resources=[role.arn],
                severity=Severity.HIGH,
            )
        ]
    evidence = decision_evidence([ask], loaded)
    conditioned = any("only for" in ev.text for ev in evidence)
    trusted = _trusted_principals(role.trust_policy)
    detail = (
        f"{explain_denial([ask])}. Lambda cannot assume {role.name}, so invocations fail "
        "with 'The role defined for the function cannot be assumed by Lambda'."
    )
    if conditioned:
        detail += (
            " A statement trusts Lambda but its conditions do not match this function "
            f"(aws:SourceAccount={snapshot.account}, aws:SourceArn={fn.arn})."
        )
    elif trusted:
        detail += f" The trust policy trusts only: {', '.join(trusted)}."
    new_trust = _trust_with_lambda(role.trust_policy, snapshot)
    return [
        Finding(
            check=ID,
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="Lambda cannot assume the execution role",
            detail=detail,
            principal=LAMBDA,
            actions=["sts:AssumeRole"],
            resources=[role.arn],
            denied_by=ask.denied_by or ["resource"],
            evidence=evidence,
            fix=Fix(
                summary=(
                    f"Let {LAMBDA} assume {role.name}: add a trust statement for the "
                    f"Lambda service (optionally limited to aws:SourceAccount {snapshot.account})."
                    + (
                        " Remove the Deny statement in the trust policy that matches Lambda."
                        if ask.explicit
                        else ""
                    )
                ),
                policy=new_trust,
                commands=[
                    f"aws iam update-assume-role-policy --role-name {q(role.name)} "
                    f"--policy-document {q(json_compact(new_trust))}"
                ],
            ),
        )
    ]


def _lambda_statement(snapshot: Snapshot) -> dict[str, object]:
    return {
        "Sid": "LambdaAssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": LAMBDA},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": snapshot.account}},
    }


def _trust_document(snapshot: Snapshot) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [_lambda_statement(snapshot)]}


def _trust_with_lambda(trust: dict[str, object], snapshot: Snapshot) -> dict[str, object]:
    """The trust policy without Denies that hit Lambda, plus an Allow for Lambda."""
    kept = [
        s
        for s in statements_of(trust)
        if not (s.get("Effect") == "Deny" and LAMBDA in json_compact(s.get("Principal", {})))
        and not (s.get("Effect") == "Allow" and LAMBDA in json_compact(s.get("Principal", {})))
    ]
    return {"Version": "2012-10-17", "Statement": [*kept, _lambda_statement(snapshot)]}


def _trusted_principals(trust: dict[str, object]) -> list[str]:
    out: list[str] = []
    for s in statements_of(trust):
        if s.get("Effect") != "Allow":
            continue
        principal = s.get("Principal")
        if isinstance(principal, str):
            out.append(principal)
        elif isinstance(principal, dict):
            for value in principal.values():
                out.extend([value] if isinstance(value, str) else [str(v) for v in value])
    return out
