"""Denied calls the function made, as CloudTrail recorded them (evidence findings).

CloudTrail logs the function's own calls under its execution role: the code's calls in a
session named after the function, Lambda's calls (ENI creation, ...) in `awslambda_…`
sessions (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
Each denied action/resource pair becomes one finding: the error message is parsed for the
action and resource (else the event's source and name), the request is evaluated against
the execution role's policies as they are now, and the finding says when the denials were
seen and whether they look intermittent or continuous. Event history holds management
events only: data-plane calls (S3 objects, DynamoDB items, Lambda Invoke) appear here only
when a trail logs data events into the event history source that was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.checks.common import Ask, RolePolicies, ask_role, role_policies
from bot.checks.env_kms import encryption_context
from bot.checks.kms import find_key, key_asks
from bot.checks.outcome import Wording, role_finding
from bot.explain.parser import parse_message
from bot.report import Evidence, Finding, Severity, Status, utc_iso
from bot.snapshot import CloudTrailEvent, Snapshot
from bot.timeline import action_of, denied_resource, function_denials, pattern

ID = "cloudtrail-denials"
#: evidence lines per finding
MAX_EVIDENCE = 3


@dataclass
class _Group:
    action: str
    resource: str
    events: list[CloudTrailEvent] = field(default_factory=list)


def _request_of(event: CloudTrailEvent) -> tuple[str, str]:
    """(action, resource) a denied event was for."""
    parsed = parse_message(event.error_message or "") if event.error_message else None
    action = parsed.action if parsed is not None and parsed.action else action_of(event)
    resource = parsed.resource if parsed is not None and parsed.resource else None
    return action, resource or denied_resource(event) or "*"


def _groups(events: list[CloudTrailEvent]) -> list[_Group]:
    groups: dict[tuple[str, str], _Group] = {}
    for event in events:
        action, resource = _request_of(event)
        groups.setdefault((action, resource), _Group(action, resource)).events.append(event)
    return list(groups.values())


def _evidence(group: _Group) -> list[Evidence]:
    out: list[Evidence] = []
    for event in sorted(group.events, key=lambda e: e.time, reverse=True)[:MAX_EVIDENCE]:
        text = f"CloudTrail {utc_iso(event.time)} {event.name} {event.error_code}"
        if event.error_message:
            text += f": {event.error_message}"
        out.append(Evidence(policy=None, sid=None, text=text[:1000]))
    return out


def _ask(snapshot: Snapshot, rp: RolePolicies, action: str, resource: str) -> Ask:
    """Re-evaluate a denied request now, with the target's resource policy when the
    snapshot holds it: a KMS key policy (which must allow even within the account), an
    event source's or destination's queue/topic/bus policy, a secret's policy."""
    if action.startswith("kms:") and resource != "*":
        key = find_key(snapshot, resource)
        if key is not None:
            env_key = key.arn == snapshot.function.kms_key_arn
            answers = key_asks(
                snapshot,
                rp,
                key.arn,
                (action,),
                via_service=f"lambda.{snapshot.region}.amazonaws.com" if env_key else None,
                encryption_context=encryption_context(snapshot) if env_key else None,
            )
            if answers.asks:
                return answers.asks[0]
    policy = _resource_policy(snapshot, resource)
    if policy is not None:
        return ask_role(
            snapshot,
            rp,
            action,
            resource,
            resource_policy=policy,
            resource_label=f"resource policy of {resource}",
        )
    return ask_role(snapshot, rp, action, resource)


def _resource_policy(snapshot: Snapshot, resource: str) -> dict[str, Any] | None:
    for mapping in snapshot.event_source_mappings:
        if mapping.source.arn == resource and mapping.source.policy is not None:
            return mapping.source.policy
    for target in snapshot.destinations:
        if target.arn == resource and target.policy is not None:
            return target.policy
    secret = snapshot.secrets.get(resource)
    if secret is not None and secret.policy is not None:
        return secret.policy
    return None


def run(snapshot: Snapshot) -> list[Finding]:
    denials = function_denials(snapshot)
    if not denials:
        return []
    rp = role_policies(snapshot)
    kind = pattern(snapshot)
    findings: list[Finding] = []
    for group in _groups(denials):
        times = sorted(e.time for e in group.events)
        count = len(group.events)
        seen = (
            f"CloudTrail recorded {count} denied {group.action} call"
            + ("s" if count > 1 else "")
            + f" by the function's role sessions, first at {utc_iso(times[0])}, last at "
            f"{utc_iso(times[-1])}" + (f" ({kind})" if kind != "unknown" else "") + "."
        )
        ask: Ask = _ask(snapshot, rp, group.action, group.resource)
        wording = Wording(
            fail=f"The function was denied {group.action} (seen in CloudTrail)",
            ok=f"The function was denied {group.action} earlier; its role now allows it",
            unknown=f"The function was denied {group.action} (seen in CloudTrail); "
            "its role's policies could not all be read",
            purpose=f"call {group.action}",
            context=seen,
        )
        finding = role_finding(
            snapshot, rp, ID, [ask], wording, severity=Severity.HIGH, sid="CloudTrailDenied"
        )
        if finding.status is Status.PASS:
            finding = finding.model_copy(
                update={
                    "status": Status.WARN,
                    "severity": Severity.MEDIUM,
                    "detail": seen
                    + " The execution role's policies as read now allow it: it was fixed "
                    "since, or something not evaluated here denied it (a resource policy "
                    "of the target, a VPC endpoint policy, a session policy, or an SCP "
                    "when the organization was not read).",
                }
            )
        finding = finding.model_copy(
            update={
                "resources": [group.resource],
                "evidence": [*_evidence(group), *finding.evidence],
            }
        )
        findings.append(finding)
    return findings
