"""Every discovered trigger may invoke the function, and nobody else may without conditions.

S3, EventBridge, SNS and API Gateway invoke the function as their service principal; the
function's resource-based policy must allow `lambda:InvokeFunction` to that principal with
a matching `aws:SourceArn` / `aws:SourceAccount` (both are in the request context).
A permission for the wrong source (another bucket, rule, topic or API) is a failure that
names it. `Principal: *` with no condition is a warning.
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions
https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from bot.checks.common import (
    Ask,
    ContextValue,
    Loaded,
    allow_evidence,
    ask_principal,
    decision_evidence,
    json_compact,
    normalize_lambda_policy,
    pass_finding,
    statements_of,
    unknown_finding,
)
from bot.checks.fixes import q, sid_for
from bot.report import Evidence, Finding, Fix, Severity, Status
from bot.snapshot import Snapshot, Trigger

ID = "invoke-permission"
ACTION = "lambda:InvokeFunction"

SERVICE_NAMES = {
    "s3": "S3 bucket",
    "events": "EventBridge rule",
    "sns": "SNS topic",
    "apigateway": "API Gateway API",
    "other": "trigger",
    "function-url": "function URL",
}


def function_policy(snapshot: Snapshot) -> tuple[dict[str, Any] | None, list[str]]:
    """The function's resource policy in AWS's grammar, and why it is unknown (if it is).

    This is the policy of the ARN that was asked for (`function:name:alias` reads the
    alias's own policy: GetPolicy with its Qualifier)."""
    return _policy_of(snapshot, asked_arn(snapshot), snapshot.resource_policy)


def asked_arn(snapshot: Snapshot) -> str:
    """The (possibly qualified) function ARN the diagnosis was asked for."""
    fn = snapshot.function
    return f"{fn.arn}:{fn.qualifier}" if fn.qualifier else fn.arn


def _policy_of(
    snapshot: Snapshot, arn: str, doc: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    missing: list[str] = []
    gap = snapshot.gap_for("lambda:GetPolicy", arn)
    if gap is None and arn == asked_arn(snapshot):
        gap = snapshot.gap_for("lambda:GetPolicy")
        if gap is not None and gap.resource not in (None, arn, snapshot.function.arn):
            gap = None  # a qualifier's read failed, not this one's
    if gap is not None and "ResourceNotFound" not in gap.error:
        what = "the function's" if arn == asked_arn(snapshot) else f"{arn}'s"
        missing.append(f"{what} resource policy (lambda:GetPolicy: {gap.error})")
    return (normalize_lambda_policy(doc) if doc is not None else None), missing


def policy_for_target(
    snapshot: Snapshot, target: str
) -> tuple[dict[str, Any] | None, list[str], str]:
    """The resource policy that governs invoking `target` (policy, missing, label).

    Lambda keeps one resource policy per qualifier: a permission on the unqualified
    function does not let a service invoke `:live`, and one on `:live` does not cover the
    function. A trigger aimed at another qualifier than the one asked for is judged on
    that qualifier's policy (`snapshot.qualifier_policies`); snapshots without it fall back
    to the asked-for policy.
    https://docs.aws.amazon.com/lambda/latest/dg/using-aliases.html#versioning-permissions-alias
    """
    if target != asked_arn(snapshot) and target in snapshot.qualifier_policies:
        policy, missing = _policy_of(snapshot, target, snapshot.qualifier_policies[target])
        return policy, missing, f"resource policy of {target}"
    policy, missing = function_policy(snapshot)
    return policy, missing, policy_label(snapshot)


def policy_label(snapshot: Snapshot) -> str:
    return f"resource policy of {asked_arn(snapshot)}"


def target_arn(snapshot: Snapshot, trigger: Trigger) -> str:
    """The ARN the trigger invokes: the function, or the version/alias it names."""
    for key in ("target_arn", "function_arn", "target"):
        value = trigger.detail.get(key)
        if value and value.startswith("arn:"):
            return value
    qualifier = trigger.detail.get("qualifier")
    if qualifier:
        return f"{snapshot.function.arn}:{qualifier}"
    return snapshot.function.arn


def run(snapshot: Snapshot) -> list[Finding]:
    findings: list[Finding] = []
    for trigger in snapshot.triggers:
        if trigger.service == "function-url":
            continue  # the function-url check covers these
        findings.append(_trigger(snapshot, trigger))
    findings.extend(_public(snapshot, function_policy(snapshot)[0]))
    return findings


def _context(trigger: Trigger) -> dict[str, ContextValue]:
    ctx: dict[str, ContextValue] = {}
    if trigger.source_arn:
        ctx["aws:SourceArn"] = trigger.source_arn
    if trigger.source_account:
        ctx["aws:SourceAccount"] = trigger.source_account
    elif trigger.source_arn:
        parts = trigger.source_arn.split(":")
        if len(parts) > 4 and len(parts[4]) == 12:
            ctx["aws:SourceAccount"] = parts[4]
    return ctx


def _trigger(snapshot: Snapshot, trigger: Trigger) -> Finding:
    resource = target_arn(snapshot, trigger)
    policy, missing, label = policy_for_target(snapshot, resource)
    what = SERVICE_NAMES.get(trigger.service, "trigger")
    name = trigger.name or (trigger.source_arn or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    loaded = Loaded()
    is_service = trigger.principal.endswith(".amazonaws.com") or trigger.principal.endswith(
        ".amazonaws.com.cn"
    )
    ask = ask_principal(
        trigger.principal,
        ACTION,
        resource,
        policy,
        loaded=loaded,
        resource_label=label,
        resource_account=snapshot.account,
        context=_context(trigger),
        caller_identity_unknown=not is_service,
        extra_missing=missing,
    )
    stages: list[str] = []
    if not ask.allowed and not ask.explicit and trigger.service == "apigateway":
        for candidate, stage in _stage_candidates(policy, trigger):
            context = {**_context(trigger), "aws:SourceArn": candidate}
            retry_loaded = Loaded()
            retry = ask_principal(
                trigger.principal,
                ACTION,
                resource,
                policy,
                loaded=retry_loaded,
                resource_label=label,
                resource_account=snapshot.account,
                context=context,
                extra_missing=missing,
            )
            if retry.allowed:
                ask, loaded = retry, retry_loaded
                stages.append(stage)
                break
    base = {
        "check": ID,
        "principal": trigger.principal,
        "actions": [ACTION],
        "resources": [resource],
        "source": trigger.source_arn,
    }
    qualified = resource != snapshot.function.arn
    shown = f"{snapshot.function.name}:{resource.rsplit(':', 1)[-1]}"
    whose = f"{shown}'s" if qualified else "the function's"
    whose_cap = whose[0].upper() + whose[1:]
    subject = shown if qualified else "The function"
    via = f" (found via {trigger.discovered_by})" if trigger.discovered_by else ""
    if ask.allowed:
        return pass_finding(
            title=f"{what} {name} may invoke the function",
            detail=f"{whose_cap} resource policy allows {trigger.principal} to call {ACTION}"
            + (f" for {trigger.source_arn}" if trigger.source_arn else "")
            + (
                f" (through stage {stages[0]} only: requests to other stages are denied)"
                if stages
                else ""
            )
            + ".",
            evidence=allow_evidence([ask], loaded),
            **base,  # type: ignore[arg-type]
        )
    if not ask.decided:
        return unknown_finding(
            title=f"Could not decide whether {what} {name} may invoke the function",
            why="; ".join(ask.missing),
            severity=Severity.HIGH,
            **base,  # type: ignore[arg-type]
        )
    evidence = decision_evidence([ask], loaded)
    wrong = _wrong_sources(ask, loaded, trigger)
    if ask.explicit:
        detail = (
            f"A Deny statement in {whose} resource policy stops {trigger.principal} "
            f"from calling {ACTION}{via}; {what} {name} cannot invoke the function."
        )
    elif wrong:
        detail = (
            f"{whose_cap} resource policy lets {trigger.principal} invoke it only for "
            f"{', '.join(wrong)}, not for {_source_text(trigger, wrong)}{via}: the "
            f"permission exists for the wrong source, so {what} {name} is denied."
        )
    elif policy is None:
        detail = (
            f"{subject} has no resource-based policy, so {trigger.principal} may not call "
            f"{ACTION}{via}; {what} {name} is configured to invoke it and is denied."
        )
    else:
        detail = (
            f"No statement in {whose} resource policy allows {trigger.principal} to call "
            f"{ACTION}" + (f" for {trigger.source_arn}" if trigger.source_arn else "") + f"{via}."
        )
    if not ask.explicit and resource != asked_arn(snapshot):
        detail += _other_qualifier_hint(snapshot, trigger, resource)
    if not is_service:
        detail += (
            " (The caller's own identity policies were not read; only the function's side "
            "is judged.)"
        )
    return Finding(
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=(
            f"{what} {name} is not allowed to invoke the function"
            + (" (permission is for another source)" if wrong and not ask.explicit else "")
        ),
        detail=detail,
        denied_by=ask.denied_by or ["resource"],
        evidence=evidence,
        fix=_fix(snapshot, trigger, resource, ask, loaded),
        **base,
    )


def _stage_candidates(policy: dict[str, Any] | None, trigger: Trigger) -> list[tuple[str, str]]:
    """Concrete execute-api source ARNs to try for an API trigger (stage `*`): the stages
    that the policy's own API Gateway statements name for this API. API Gateway calls
    with the stage a request came through, so a stage-scoped permission works for it.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
    """
    source = trigger.source_arn or ""
    head, sep, rest = source.partition("/")
    parts = rest.split("/", 1)
    if not sep or not parts or parts[0] != "*" or policy is None:
        return []
    tail = parts[1] if len(parts) > 1 else ""
    out: dict[str, str] = {}
    for stmt in statements_of(policy):
        for values in (stmt.get("Condition") or {}).values():
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if key.lower() != "aws:sourcearn":
                    continue
                for pattern in [value] if isinstance(value, str) else list(value):
                    p_head, p_sep, p_rest = str(pattern).partition("/")
                    stage = p_rest.split("/", 1)[0]
                    if p_head == head and p_sep and stage and not any(c in stage for c in "*?"):
                        out.setdefault(
                            stage, f"{head}/{stage}/{tail}" if tail else f"{head}/{stage}"
                        )
    return [(arn, stage) for stage, arn in out.items()]


def _other_qualifier_hint(snapshot: Snapshot, trigger: Trigger, resource: str) -> str:
    """When the asked-for policy would allow the trigger on its own ARN: say that a
    permission does not carry over between qualifiers."""
    policy, _ = function_policy(snapshot)
    asked = asked_arn(snapshot)
    if policy is None:
        return ""
    ask = ask_principal(
        trigger.principal,
        ACTION,
        asked,
        policy,
        loaded=Loaded(),
        resource_label=policy_label(snapshot),
        resource_account=snapshot.account,
        context=_context(trigger),
    )
    if not ask.allowed:
        return ""
    return (
        f" A permission for it exists on {asked}, but the trigger invokes {resource}: Lambda "
        "keeps a separate resource policy per version and alias, so add the permission with "
        "--qualifier."
    )


def _source_text(trigger: Trigger, wrong: list[str]) -> str:
    """The trigger's source as the wrong permission should have named it."""
    if wrong and all(w.startswith("account ") for w in wrong) and trigger.source_account:
        return f"account {trigger.source_account} (the {trigger.source_arn or 'source'} owner)"
    return trigger.source_arn or "this source"


def _wrong_sources(ask: Ask, loaded: Loaded, trigger: Trigger) -> list[str]:
    """Sources named by Allows that would apply but for their conditions: the source ARNs
    that do not match the trigger's, else the accounts that do not."""
    key_account = "aws:SourceAccount"
    arns: list[str] = []
    accounts: list[str] = []
    for label, document in loaded.documents.items():
        for stmt in statements_of(document):
            if stmt.get("Effect") != "Allow" or "Condition" not in stmt:
                continue
            probe = {k: v for k, v in stmt.items() if k != "Condition"}
            relaxed = ask_principal(
                ask.principal,
                ask.action,
                ask.resource,
                {"Version": "2012-10-17", "Statement": [probe]},
                loaded=Loaded(),
                resource_label=label,
                resource_account=None,
                context=ask.context,
                caller_identity_unknown=not trigger.principal.endswith(".amazonaws.com"),
            )
            if not relaxed.allowed:
                continue
            for values in stmt["Condition"].values():
                if not isinstance(values, dict):
                    continue
                for key, value in values.items():
                    listed = [value] if isinstance(value, str) else [str(v) for v in value]
                    if key.lower() == "aws:sourcearn":
                        arns.extend(listed)
                    elif key.lower() == "aws:sourceaccount":
                        accounts.extend(
                            f"account {a}" for a in listed if a != ask.context.get(key_account)
                        )
    # name what does not match: the ARNs, else (right ARN, wrong account) the accounts
    source = ask.context.get("aws:SourceArn")
    other_arns = [a for a in arns if not (isinstance(source, str) and fnmatchcase(source, a))]
    return list(dict.fromkeys(other_arns or accounts or arns))


def _fix(snapshot: Snapshot, trigger: Trigger, resource: str, ask: Ask, loaded: Loaded) -> Fix:
    fn = snapshot.function
    qualifier = resource[len(fn.arn) + 1 :] if resource.startswith(fn.arn + ":") else None
    sid = sid_for(f"lambda-why {trigger.service} {trigger.name or ''} invoke")
    condition: dict[str, dict[str, str]] = {}
    ctx = _context(trigger)
    if "aws:SourceArn" in ctx:
        condition["ArnLike"] = {"AWS:SourceArn": str(ctx["aws:SourceArn"])}
    if "aws:SourceAccount" in ctx:
        condition["StringEquals"] = {"AWS:SourceAccount": str(ctx["aws:SourceAccount"])}
    principal: dict[str, str] = (
        {"Service": trigger.principal}
        if trigger.principal.endswith(".amazonaws.com")
        else {"AWS": trigger.principal}
    )
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": ACTION,
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    cmd = (
        f"aws lambda add-permission --function-name {q(fn.name)}"
        + (f" --qualifier {q(qualifier)}" if qualifier else "")
        + f" --statement-id {q(sid)} --action {ACTION} --principal {q(trigger.principal)}"
    )
    if "aws:SourceArn" in ctx:
        cmd += f" --source-arn {q(str(ctx['aws:SourceArn']))}"
    if "aws:SourceAccount" in ctx:
        cmd += f" --source-account {q(str(ctx['aws:SourceAccount']))}"
    if fn.arn.split(":")[3] != snapshot.region:
        cmd += f" --region {q(fn.arn.split(':')[3])}"
    commands = [cmd]
    summary = (
        f"Allow {trigger.principal} to invoke {fn.name}"
        + (f" for {trigger.source_arn}" if trigger.source_arn else "")
        + " with a resource-based policy statement."
    )
    if ask.explicit:
        deny_sids = [ref.sid for ref in ask.decision.statements if ref.effect == "Deny"]
        summary = (
            "Remove the Deny statement"
            + (f" {', '.join(repr(s) for s in deny_sids if s)}" if any(deny_sids) else "")
            + f" from {fn.name}'s resource policy, then "
            + summary[0].lower()
            + summary[1:]
        )
        commands = [
            f"aws lambda remove-permission --function-name {q(fn.name)} --statement-id {q(s)}"
            for s in deny_sids
            if s
        ] + commands
    return Fix(
        summary=summary,
        policy={"Version": "2012-10-17", "Statement": [statement]},
        commands=commands,
    )


def _public(snapshot: Snapshot, policy: dict[str, Any] | None) -> list[Finding]:
    """Statements that let anyone invoke the function with no condition at all."""
    if policy is None:
        return []
    out: list[Finding] = []
    fn = snapshot.function
    for index, stmt in enumerate(statements_of(policy)):
        if stmt.get("Effect") != "Allow" or stmt.get("Condition"):
            continue
        if stmt.get("Principal") not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            continue
        single = {"Version": "2012-10-17", "Statement": [stmt]}
        actions = [
            a
            for a in (ACTION, "lambda:InvokeFunctionUrl", "lambda:InvokeAsync")
            if ask_principal(
                "*",
                a,
                fn.arn,
                single,
                loaded=Loaded(),
                resource_label=policy_label(snapshot),
                resource_account=snapshot.account,
            ).allowed
            or ask_principal(
                "*",
                a,
                f"{fn.arn}:*",
                single,
                loaded=Loaded(),
                resource_label=policy_label(snapshot),
                resource_account=snapshot.account,
            ).allowed
        ]
        if not actions:
            continue
        sid = stmt.get("Sid")
        out.append(
            Finding(
                check=ID,
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title="Anyone may invoke the function (Principal * without conditions)",
                detail=(
                    f"Statement {sid or '#' + str(index + 1)} of the function's resource policy "
                    f"allows {', '.join(actions)} to every principal, in any account, with no "
                    "condition. Limit it with aws:SourceArn / aws:SourceAccount / "
                    "aws:PrincipalOrgID, or name the callers."
                ),
                principal="*",
                actions=actions,
                resources=[fn.arn],
                evidence=[
                    Evidence(policy=policy_label(snapshot), sid=sid, text=json_compact(stmt))
                ],
                fix=Fix(
                    summary="Replace the public statement with one scoped to the real callers.",
                    commands=(
                        [
                            f"aws lambda remove-permission --function-name {q(fn.name)} "
                            f"--statement-id {q(sid)}"
                        ]
                        if sid
                        else []
                    ),
                ),
            )
        )
    return out
