"""Reads that failed and that no check reported: each becomes an `unknown` finding.

A check whose input is missing says `unknown` itself and names the gap. Anything left
(a read no check consumed, such as a trigger scan that failed) would otherwise only be
listed in `gaps`; it is reported here so that nothing passes silently. Reads that only
feed the timeline and the support bundle (CloudTrail, CloudWatch Logs) stay in `gaps`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.report import Finding, Severity, Status
from bot.snapshot import Gap, Snapshot

ID = "read-gaps"

#: services whose reads only feed the timeline / bundle, never a permission decision
INFORMATIONAL = ("cloudtrail:", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:Describe")


def _mentioned(gap: Gap, findings: Sequence[Finding]) -> bool:
    for f in findings:
        text = f"{f.title} {f.detail}"
        if gap.resource and (gap.resource in f.resources or gap.resource in f.detail):
            return True
        if gap.resource and gap.resource in text and gap.operation in text:
            return True
        if gap.operation in text and gap.error in text:
            return True
    return False


def uncovered(snapshot: Snapshot, findings: Sequence[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for gap in snapshot.gaps:
        if gap.operation.startswith(INFORMATIONAL) or _mentioned(gap, findings):
            continue
        if gap.resource and ":alias/aws/" in gap.resource:
            continue  # an AWS managed key: no permission depends on reading it
        out.append(
            Finding(
                check=ID,
                status=Status.UNKNOWN,
                severity=Severity.LOW,
                title=f"Could not read {gap.operation}"
                + (f" on {gap.resource}" if gap.resource else ""),
                detail=(
                    f"{gap.operation}"
                    + (f" on {gap.resource}" if gap.resource else "")
                    + f" failed ({gap.error}); whatever depends on it was not checked."
                ),
                resources=[gap.resource] if gap.resource else [],
            )
        )
    return out
