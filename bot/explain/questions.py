"""Questions asked of one function (`check ARN --as`, `--action --resource`, `--assume`). Pure.

- `--as PRINCIPAL [--action A]` (default `lambda:InvokeFunction`): may this user, role,
  account or service call A on the function? Identity policies, the function's resource
  policy, the permissions boundary and SCPs/RCPs (when read) are evaluated; for
  `lambda:CreateFunction` / `lambda:UpdateFunctionConfiguration` also `iam:PassRole` on
  the execution role (with `iam:PassedToService = lambda.amazonaws.com`).
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
- `--action A --resource R`: may the function's execution role call A on R?

Findings use the check id `question`.
"""

from __future__ import annotations

from bot.checks.common import ask_role, checked_role, normalize_lambda_policy
from bot.checks.outcome import Wording, role_finding
from bot.explain.evaluate import ExplainInputs, _evaluate
from bot.explain.inputs import PrincipalPolicies, ResourcePolicy
from bot.explain.parser import ParsedError
from bot.report import Finding, Severity, Status
from bot.snapshot import OrgPolicies, Snapshot

ID = "question"
DEFAULT_ACTION = "lambda:InvokeFunction"
PASS_ROLE_ACTIONS = ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration")


def normalise_principal(value: str, partition: str = "aws") -> str:
    """A bare account id becomes its root ARN; anything else is kept."""
    value = value.strip()
    if value.isdigit() and len(value) == 12:
        return f"arn:{partition}:iam::{value}:root"
    return value


def function_resource(snapshot: Snapshot) -> str:
    fn = snapshot.function
    return f"{fn.arn}:{fn.qualifier}" if fn.qualifier else fn.arn


def principal_question(
    snapshot: Snapshot, principal: PrincipalPolicies, action: str = DEFAULT_ACTION
) -> list[Finding]:
    """May `principal` call `action` on the function (and pass its role, where needed)?"""
    assert principal.arn is not None
    resource = function_resource(snapshot)
    policy = (
        normalize_lambda_policy(snapshot.resource_policy)
        if snapshot.resource_policy is not None
        else None
    )
    res = ResourcePolicy(
        state="read" if policy is not None else "none",
        document=policy,
        label=f"resource-based policy of {snapshot.function.arn}",
        account=snapshot.account,
        description=f"the resource-based policy of {snapshot.function.name}",
    )
    same_account = principal.account in (None, snapshot.account)
    org = snapshot.organization if same_account else None
    if principal.kind == "root" and not same_account:
        principal = _stand_in_identity(principal, action)
    findings = [_ask(snapshot, principal, action, resource, res, org=org)]
    if action in PASS_ROLE_ACTIONS and principal.kind in ("role", "user"):
        role = ResourcePolicy(state="not-applicable")
        findings.append(
            _ask(
                snapshot,
                principal,
                "iam:PassRole",
                snapshot.function.role_arn,
                role,
                org=org,
                context={"iam:PassedToService": "lambda.amazonaws.com"},
            )
        )
    return findings


def _stand_in_identity(principal: PrincipalPolicies, action: str) -> PrincipalPolicies:
    """Another account's root: its own policies are its administrators'; assume they allow."""
    from bot.snapshot import NamedPolicy

    allow = NamedPolicy(
        name=f"{principal.arn} identity policies (not read; assumed to allow)",
        document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
        },
    )
    return principal.model_copy(update={"identity": [allow], "read": True, "kind": "user"})


def _ask(
    snapshot: Snapshot,
    principal: PrincipalPolicies,
    action: str,
    resource: str,
    res: ResourcePolicy,
    *,
    org: OrgPolicies | None,
    context: dict[str, str] | None = None,
) -> Finding:
    parsed = ParsedError(principal=principal.arn, action=action, resource=resource)
    inputs = ExplainInputs(
        principal=principal,
        resource=res,
        organization=org,
        account=snapshot.account,
        region=snapshot.region,
    )
    finding = _evaluate(parsed, inputs, extra_context=context)
    who = principal.arn or "?"
    finding.check = ID
    if finding.status is Status.WARN:  # "allowed, yet denied": for a question, allowed is a pass
        finding.status = Status.PASS
        finding.severity = Severity.INFO
        finding.title = f"{_short(who)} may {action} on {_short(resource)}"
        finding.detail = f"{who} is allowed {action} on {resource}."
        if org is None:
            finding.detail += " SCPs and RCPs were not evaluated."
        finding.denied_by = []
        finding.fix = None
    elif finding.status is Status.FAIL:
        finding.title = f"{_short(who)} may not {action} on {_short(resource)}"
        finding.detail = finding.detail.replace(
            "The message does not say which policy denied it. ", ""
        )
    else:
        finding.detail = finding.detail.replace(
            "The message does not say which policy denied it. ", ""
        )
    return finding


def role_question(
    snapshot: Snapshot, action: str, resource: str, res: ResourcePolicy | None = None
) -> list[Finding]:
    """May the function's execution role call `action` on `resource`?"""
    rp = checked_role(snapshot)
    if rp is None:
        return [
            Finding(
                check=ID,
                status=Status.FAIL,
                severity=Severity.HIGH,
                title="The function's execution role does not exist",
                detail=f"{snapshot.function.role_arn} could not be found, so it may do nothing.",
                principal=snapshot.function.role_arn,
                actions=[action],
                resources=[resource],
                denied_by=["identity"],
            )
        ]
    missing = []
    document = None
    if res is not None:
        if res.state == "read":
            document = res.document
        elif res.state == "unreadable":
            missing.append(res.description or f"the resource policy of {resource}")
    ask = ask_role(
        snapshot,
        rp,
        action,
        resource,
        resource_policy=document,
        resource_label=res.label if res is not None and document is not None else None,
        resource_missing=missing,
        resource_account=res.account if res is not None else None,
    )
    wording = Wording(
        fail=f"The function may not {action} on {_short(resource)}",
        ok=f"The function may {action} on {_short(resource)}",
        unknown=f"Could not decide whether the function may {action} on {_short(resource)}",
        purpose=f"call {action} on {resource}",
        context=f"Asked: may the execution role call {action} on {resource}?",
    )
    return [
        role_finding(
            snapshot, rp, ID, [ask], wording, severity=Severity.HIGH, sid="LambdaWhyQuestion"
        )
    ]


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if arn.startswith("arn:") else arn
