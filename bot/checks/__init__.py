"""Checks: one small pure module per check, snapshot → findings.

A check module has `ID: str` and `run(snapshot) -> list[Finding]`, and is listed in
`CHECKS`. Every permission decision goes through `bot.iam.evaluate` (see `common.py`).
`build_report` runs them all, adds an `unknown` finding for each read gap no check
covered, the CloudTrail timeline and correlation, and sorts: fail, unknown, warn, pass.
See docs/checks.md.
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

from bot.checks import (
    assume_role,
    cloudtrail_denials,
    container_image,
    destinations,
    efs_mount,
    env_kms,
    event_source,
    execution_role_trust,
    function_state,
    function_url,
    invoke_permission,
    layers,
    log_delivery,
    log_evidence,
    read_gaps,
    unknown_actions,
    vpc_eni,
    xray,
)
from bot.checks.common import sort_findings
from bot.report import Finding, Report, Severity, Status, Summary
from bot.snapshot import Snapshot


class Check(Protocol):
    ID: str

    def run(self, snapshot: Snapshot) -> list[Finding]: ...


#: the registry: other helpers append their check modules here
CHECKS: list[ModuleType] = [
    execution_role_trust,
    function_state,
    log_delivery,
    vpc_eni,
    event_source,
    invoke_permission,
    function_url,
    env_kms,
    destinations,
    efs_mount,
    xray,
    unknown_actions,
    cloudtrail_denials,
    log_evidence,
    assume_role,
    container_image,
    layers,
]


def run_checks(snapshot: Snapshot) -> list[Finding]:
    """Every registered check's findings, sorted (fail, unknown, warn, pass). Pure.

    A check that raises is reported as an `unknown` finding naming the error rather than
    taking the whole report down.
    """
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check.run(snapshot))
        except Exception as exc:  # a bug in one check must not hide the others' results
            findings.append(
                Finding(
                    check=check.ID,
                    status=Status.UNKNOWN,
                    severity=Severity.MEDIUM,
                    title=f"Check {check.ID} could not run",
                    detail=f"Internal error in check {check.ID}: {type(exc).__name__}: {exc}.",
                )
            )
    findings.extend(read_gaps.uncovered(snapshot, findings))
    return sort_findings(findings)


def notes_for(snapshot: Snapshot) -> list[str]:
    """What the evaluation did not cover."""
    notes: list[str] = []
    org = snapshot.organization
    org_gaps = [
        g
        for g in snapshot.gaps
        if g.operation.startswith("organizations:")
        or (g.operation == "sts:AssumeRole" and "organization" in (g.resource or "").lower())
    ]
    if org is None:
        if org_gaps:
            notes.append(
                "SCPs and RCPs were not evaluated: the organization's policies could not be "
                f"read ({org_gaps[0].operation}: {org_gaps[0].error})"
            )
        else:
            notes.append("SCPs and RCPs were not evaluated (no [organization] configured)")
    elif org.management_account == snapshot.account:
        notes.append(
            "SCPs and RCPs do not apply: the function is in the organization's management account"
        )
    else:
        for kind, levels in (("SCPs", org.scp), ("RCPs", org.rcp)):
            if levels is None:
                notes.append(
                    f"{kind} were not evaluated ("
                    + ("they could not be read" if org_gaps else "not enabled in the organization")
                    + ")"
                )
    if snapshot.cloudtrail is None:
        notes.append("CloudTrail was not read: no events")
    if not snapshot.scanned_triggers:
        notes.append(
            "Triggers were found from the function's side only (resource policy, event source "
            "mappings, EventBridge rules, SNS subscriptions); use --scan-triggers to scan every "
            "S3 bucket and API in the region"
        )
    return notes


def build_report(snapshot: Snapshot) -> Report:
    """The `check --json` document for a snapshot. Pure."""
    from bot.timeline import correlate, timeline

    findings = run_checks(snapshot)
    events = []
    if snapshot.cloudtrail is not None:
        events = timeline(snapshot)
        findings = sort_findings(correlate(findings, snapshot))
    fn = snapshot.function
    return Report(
        function=f"{fn.arn}:{fn.qualifier}" if fn.qualifier else fn.arn,
        account=snapshot.account,
        region=snapshot.region,
        checked_at=snapshot.collected_at,
        summary=Summary.of(findings),
        findings=findings,
        events=events,
        gaps=list(snapshot.gaps),
        notes=notes_for(snapshot),
    )


__all__ = ["CHECKS", "Check", "build_report", "notes_for", "run_checks"]
