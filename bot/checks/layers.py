"""Layers from other accounts: the layer version policy must allow the function's account.

Lambda checks `lambda:GetLayerVersion` on every layer version at CreateFunction and
UpdateFunctionConfiguration; a layer owned by another account needs a layer version
permission (`AddLayerVersionPermission`) for the function's account, its organization, or
everyone (`*`). Only the layer's owner can read that policy (GetLayerVersionPolicy), so for
most third-party layers the answer is `unknown` with that reason.
https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html
"""

from __future__ import annotations

from bot.checks.common import (
    Loaded,
    allow_evidence,
    ask_principal,
    decision_evidence,
    explain_denial,
    gaps_about,
)
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import Snapshot

ID = "layers"
ACTION = "lambda:GetLayerVersion"


def run(snapshot: Snapshot) -> list[Finding]:
    findings: list[Finding] = []
    caller = f"arn:{snapshot.partition}:iam::{snapshot.account}:root"
    for layer in snapshot.function.layers:
        owner = layer.account or (layer.arn.split(":")[4] if layer.arn.count(":") >= 4 else None)
        if owner is None or owner == snapshot.account:
            continue
        base = {
            "check": ID,
            "principal": snapshot.account,
            "actions": [ACTION],
            "resources": [layer.arn],
        }
        if layer.policy is None:
            gaps = [g for g in gaps_about(snapshot, layer.arn) if g.operation.startswith("lambda:")]
            why = f"{gaps[0].operation}: {gaps[0].error}" if gaps else "not read"
            findings.append(
                Finding(
                    status=Status.UNKNOWN, severity=Severity.LOW,
                    title=f"Could not decide whether account {snapshot.account} may use layer "
                    f"{layer.arn.split(':')[6] if layer.arn.count(':') >= 6 else layer.arn}",
                    detail=f"Could not be decided: the layer version policy of {layer.arn} "
                    f"(account {owner}) could not be read ({why}); only the layer's owner can "
                    "read it. Lambda checks lambda:GetLayerVersion when the function is created "
                    "or its configuration updated.",
                    **base,
                )
            )  # fmt: skip
            continue
        loaded = Loaded()
        ask = ask_principal(
            caller, ACTION, layer.arn, layer.policy, loaded=loaded,
            resource_label=f"layer version policy of {layer.arn}", resource_account=owner,
            caller_identity_unknown=True,
        )  # fmt: skip
        if ask.allowed:
            findings.append(
                Finding(
                    status=Status.PASS, severity=Severity.INFO,
                    title=f"Account {snapshot.account} may use layer {layer.arn}",
                    detail=f"The layer version policy allows {ACTION} to the function's account.",
                    evidence=allow_evidence([ask], loaded), **base,
                )
            )  # fmt: skip
            continue
        name, _, version = layer.arn.rpartition(":")
        findings.append(
            Finding(
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"Account {snapshot.account} may not use layer {layer.arn}",
                detail=(
                    f"{explain_denial([ask])}. Lambda refuses to create or update the function "
                    f"while the layer version policy of account {owner} does not allow it."
                ),
                denied_by=ask.denied_by,
                evidence=decision_evidence([ask], loaded),
                fix=Fix(
                    summary=f"The owner of the layer (account {owner}) must grant {ACTION} to "
                    f"account {snapshot.account}, or use a layer version that does.",
                    commands=[
                        f"aws lambda add-layer-version-permission --layer-name {name} "
                        f"--version-number {version} --statement-id lambda-why-{snapshot.account} "
                        f"--action {ACTION} --principal {snapshot.account}"
                    ],
                ),
                **base,
            )
        )
    return findings
