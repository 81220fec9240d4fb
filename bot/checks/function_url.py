"""Function URLs: a public (`AuthType NONE`) URL needs a resource policy that lets anyone in.

For `NONE`, the function's resource-based policy must allow `Principal: *`
`lambda:InvokeFunctionUrl` under `lambda:FunctionUrlAuthType = NONE`, or every request
gets 403 Forbidden. Since October 2025 new URLs also need `lambda:InvokeFunction` (under
`lambda:InvokedViaFunctionUrl = true`); older URLs keep a temporary exception, so its
absence is a warning. `AWS_IAM` URLs are authorized by the callers' own policies: reported
as information.
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
"""

from __future__ import annotations

from bot.checks.common import (
    Loaded,
    allow_evidence,
    ask_principal,
    decision_evidence,
    pass_finding,
    unknown_finding,
)
from bot.checks.fixes import q
from bot.checks.invoke_permission import function_policy, policy_label
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import FunctionUrl, Snapshot

ID = "function-url"


def run(snapshot: Snapshot) -> list[Finding]:
    return [f for url in snapshot.function_urls for f in _one(snapshot, url)]


def _one(snapshot: Snapshot, url: FunctionUrl) -> list[Finding]:
    fn = snapshot.function
    resource = f"{fn.arn}:{url.qualifier}" if url.qualifier else fn.arn
    if url.auth_type == "AWS_IAM":
        return [
            pass_finding(
                ID,
                "Function URL requires IAM authentication",
                f"{url.url} uses AuthType AWS_IAM: callers need lambda:InvokeFunctionUrl (and "
                "lambda:InvokeFunction) in their own identity policies, or a statement in the "
                "function's resource policy when they are in another account.",
                principal=None,
                actions=["lambda:InvokeFunctionUrl"],
                resources=[resource],
                source=url.url,
            )
        ]
    policy, missing = function_policy(snapshot)
    loaded = Loaded()
    url_ask = ask_principal(
        "*",
        "lambda:InvokeFunctionUrl",
        resource,
        policy,
        loaded=loaded,
        resource_label=policy_label(snapshot),
        resource_account=snapshot.account,
        context={"lambda:FunctionUrlAuthType": "NONE"},
        extra_missing=missing,
    )
    invoke_ask = ask_principal(
        "*",
        "lambda:InvokeFunction",
        resource,
        policy,
        loaded=loaded,
        resource_label=policy_label(snapshot),
        resource_account=snapshot.account,
        context={"lambda:InvokedViaFunctionUrl": "true", "lambda:FunctionUrlAuthType": "NONE"},
        extra_missing=missing,
    )
    qualifier = f" --qualifier {q(url.qualifier)}" if url.qualifier else ""
    url_cmd = (
        f"aws lambda add-permission --function-name {q(fn.name)}{qualifier} "
        "--statement-id FunctionURLAllowPublicAccess --action lambda:InvokeFunctionUrl "
        "--principal '*' --function-url-auth-type NONE"
    )
    invoke_cmd = (
        f"aws lambda add-permission --function-name {q(fn.name)}{qualifier} "
        "--statement-id FunctionURLInvokeAllowPublicAccess --action lambda:InvokeFunction "
        "--principal '*' --invoked-via-function-url"
    )
    url_stmt = {
        "Sid": "FunctionURLAllowPublicAccess",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunctionUrl",
        "Resource": resource,
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    }
    invoke_stmt = {
        "Sid": "FunctionURLInvokeAllowPublicAccess",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunction",
        "Resource": resource,
        "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
    }
    base = {"check": ID, "principal": "*", "resources": [resource], "source": url.url}
    if not url_ask.allowed:
        if not url_ask.decided:
            return [
                unknown_finding(
                    title="Could not decide whether the public function URL accepts requests",
                    why="; ".join(url_ask.missing),
                    actions=["lambda:InvokeFunctionUrl"],
                    severity=Severity.HIGH,
                    **base,  # type: ignore[arg-type]
                )
            ]
        denied = [url_ask] + ([] if invoke_ask.allowed else [invoke_ask])
        return [
            Finding(
                status=Status.FAIL,
                severity=Severity.HIGH,
                title="Public function URL is not allowed by the resource policy",
                detail=(
                    f"{url.url} uses AuthType NONE, but the function's resource policy does not "
                    "allow Principal * to call lambda:InvokeFunctionUrl with "
                    "lambda:FunctionUrlAuthType NONE"
                    + (" (explicitly denied)" if url_ask.explicit else "")
                    + ": every request gets 403 Forbidden."
                ),
                actions=[a.action for a in denied],
                denied_by=url_ask.denied_by or ["resource"],
                evidence=decision_evidence(denied, loaded),
                fix=Fix(
                    summary=(
                        "Allow public access to the function URL (both InvokeFunctionUrl and, "
                        "for URLs created since October 2025, InvokeFunction), or switch the "
                        "URL to AuthType AWS_IAM."
                    ),
                    policy={
                        "Version": "2012-10-17",
                        "Statement": [url_stmt] + ([] if invoke_ask.allowed else [invoke_stmt]),
                    },
                    commands=[url_cmd] + ([] if invoke_ask.allowed else [invoke_cmd]),
                ),
                **base,
            )
        ]
    if not invoke_ask.allowed and invoke_ask.decided:
        return [
            Finding(
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title="Public function URL lacks the lambda:InvokeFunction permission",
                detail=(
                    f"{url.url} is public and lambda:InvokeFunctionUrl is allowed, but "
                    "lambda:InvokeFunction is not allowed for Principal * via the function URL. "
                    "Function URLs created since October 2025 need both; older URLs have a "
                    "temporary exception."
                ),
                actions=["lambda:InvokeFunction"],
                denied_by=invoke_ask.denied_by or ["resource"],
                evidence=decision_evidence([invoke_ask], loaded),
                fix=Fix(
                    summary="Add the InvokeFunction statement for function URL callers.",
                    policy={"Version": "2012-10-17", "Statement": [invoke_stmt]},
                    commands=[invoke_cmd],
                ),
                **base,
            )
        ]
    return [
        pass_finding(
            title="Public function URL is allowed by the resource policy",
            detail=f"{url.url} uses AuthType NONE and the resource policy lets anyone call it.",
            actions=["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
            evidence=allow_evidence([url_ask, invoke_ask], loaded),
            **base,  # type: ignore[arg-type]
        )
    ]
