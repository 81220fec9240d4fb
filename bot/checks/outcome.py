"""Turn a check's answers about the execution role into one finding (status, evidence, fix)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.checks.common import (
    Ask,
    RolePolicies,
    allow_evidence,
    decision_evidence,
    denied_types,
    explain_denial,
    missing_allow_evidence,
    missing_text,
    policy_type_names,
    unique,
    verdict_of,
)
from bot.checks.fixes import ResourceSide, role_fix
from bot.report import Finding, Severity, Status
from bot.snapshot import Snapshot


@dataclass
class Wording:
    """Titles for each outcome and what the permissions are for."""

    fail: str
    ok: str
    unknown: str
    warn: str | None = None
    #: completes "... so that Lambda can <purpose>", e.g. "write the function's logs"
    purpose: str = ""
    #: a sentence of context put in front of the detail
    context: str = ""


def role_finding(
    snapshot: Snapshot,
    rp: RolePolicies,
    check: str,
    asks: Sequence[Ask],
    wording: Wording,
    *,
    severity: Severity,
    sid: str,
    managed: str | None = None,
    resource_side: ResourceSide | None = None,
    warn_severity: Severity = Severity.LOW,
    source: str | None = None,
) -> Finding:
    """One finding for a set of questions about the execution role."""
    status, deciding = verdict_of(asks)
    resources = unique(a.resource for a in asks)
    lead = (wording.context + " ") if wording.context else ""
    if status is Status.PASS:
        return Finding(
            check=check,
            status=Status.PASS,
            severity=Severity.INFO,
            title=wording.ok,
            detail=lead
            + f"The execution role is allowed {', '.join(unique(a.action for a in asks))}.",
            principal=rp.role_arn,
            actions=unique(a.action for a in asks),
            resources=resources,
            source=source,
            evidence=allow_evidence(asks, rp.loaded),
        )
    if status is Status.UNKNOWN:
        return Finding(
            check=check,
            status=Status.UNKNOWN,
            severity=severity if any(a.required for a in deciding) else warn_severity,
            title=wording.unknown,
            detail=lead
            + "Could not be decided because some inputs could not be read: "
            + missing_text(deciding)
            + ". With what could be read: "
            + (explain_denial(deciding) or "allowed")
            + ".",
            principal=rp.role_arn,
            actions=unique(a.action for a in deciding),
            resources=unique(a.resource for a in deciding),
            source=source,
        )
    denied = [a for a in deciding if not a.allowed]
    types = denied_types(denied)
    title = wording.fail if status is Status.FAIL else (wording.warn or wording.fail)
    detail = lead + f"{explain_denial(denied)}. Denied by: {policy_type_names(types)}."
    if status is Status.FAIL and any(not a.required for a in denied):
        extra = [a.action for a in denied if not a.required]
        detail += f" Also recommended: {', '.join(unique(extra))}."
    if any(a.missing for a in denied):
        detail += f" Not read (but the answer holds regardless): {missing_text(denied)}."
    evidence = decision_evidence(denied, rp.loaded) + missing_allow_evidence(denied, rp)
    fix = role_fix(
        snapshot,
        rp,
        denied,
        purpose=("so that Lambda can " + wording.purpose) if wording.purpose else "",
        sid=sid,
        managed=managed,
        resource_side=resource_side,
    )
    return Finding(
        check=check,
        status=status,
        severity=severity if status is Status.FAIL else warn_severity,
        title=title,
        detail=detail,
        principal=rp.role_arn,
        actions=unique(a.action for a in denied),
        resources=unique(a.resource for a in denied),
        source=source,
        denied_by=types,
        evidence=evidence,
        fix=fix,
    )
