"""Access errors in the function's own logs, each re-evaluated against the execution role.

Every line of `snapshot.logs` (read by `bot.aws.logs` in the `--since` window) is parsed
with the explain parser; lines that are access errors are grouped by (action, resource).
For each group whose principal is the execution role (its session, or no principal), the
request is evaluated with the role's identity policies, boundary, SCPs/RCPs and the
resource's policy when the snapshot holds it (event source, destination, KMS key):

- denied → `fail`, naming the deciding statement and the fix;
- allowed → `warn`: the denial came from something not read here (session or VPC
  endpoint policies, SCPs when not configured, another account's resource policy, or a
  policy fixed since);
- a message that names no resource joins the denial of the same action that does name
  one; Lambda's own `KMSAccessDeniedException` about the environment variables is about
  the function's key; any other unnamed resource is evaluated on `*`, and when the role
  grants the action only on some resources it is a `warn` (which one the code used cannot
  be told);
- denials of another principal (a role the code assumed) → `warn` naming it;
  `sts:AssumeRole` denials are the `assume-role` check's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.checks.common import (
    Ask,
    Loaded,
    allow_evidence,
    ask_role,
    checked_role,
    near_misses,
)
from bot.checks.kms import find_key
from bot.checks.outcome import Wording, role_finding
from bot.explain.parser import ParsedError, parse_message
from bot.report import Evidence, Finding, Severity, Status
from bot.snapshot import LogLine, PolicyDocument, Snapshot

ID = "log-evidence"

#: evidence lines shown per finding
MAX_EVIDENCE_LINES = 3


@dataclass
class Denial:
    """One distinct (principal, action, resource) denied in the logs."""

    parsed: ParsedError
    lines: list[LogLine] = field(default_factory=list)

    @property
    def first(self) -> datetime:
        return self.lines[0].time

    @property
    def last(self) -> datetime:
        return self.lines[-1].time


def denials_in(logs: list[LogLine]) -> list[Denial]:
    """Parsed access errors of the log lines, grouped by (principal, action, resource).

    A line that names no resource (Lambda's short `KMSAccessDeniedException: Lambda was
    unable to decrypt the environment variables ...`) is the same denial as the one line
    of that action that does name it: when exactly one group of the action (and a
    compatible principal) has a resource, the line joins that group instead of becoming
    a second finding about an unnamed resource.
    """
    groups: dict[tuple[str | None, str, str | None], Denial] = {}
    for line in logs:
        parsed = parse_message(line.message)
        if parsed is None or parsed.action is None:
            continue
        key = (parsed.principal, parsed.action, parsed.resource)
        groups.setdefault(key, Denial(parsed=parsed)).lines.append(line)
    for key in [k for k in groups if k[2] is None]:
        principal, action, _ = key
        named = [
            other
            for other in groups
            if other[2] is not None
            and other[1] == action
            and (principal is None or other[0] is None or other[0] == principal)
        ]
        if len(named) == 1:
            target = groups[named[0]]
            target.lines = sorted([*target.lines, *groups.pop(key).lines], key=lambda x: x.time)
    return list(groups.values())


def is_role_session(principal: str | None, role_arn: str) -> bool:
    """True when `principal` is the role itself or one of its assumed-role sessions."""
    if principal is None:
        return True
    if principal == role_arn:
        return True
    role_parts = role_arn.split(":")
    parts = principal.split(":")
    if len(parts) < 6 or len(role_parts) < 6:
        return False
    role_name = role_arn.rsplit("/", 1)[-1]
    resource = parts[5]
    return (
        parts[2] == "sts"
        and resource.startswith("assumed-role/")
        and resource.split("/")[1] == role_name
        and (parts[4] == role_parts[4] or not parts[4].isdigit())
    )


def resource_policy_for(snapshot: Snapshot, resource: str | None) -> PolicyDocument | None:
    """The policy the snapshot holds for `resource` (event source, destination, KMS key)."""
    if not resource:
        return None
    for mapping in snapshot.event_source_mappings:
        if mapping.source.arn == resource and mapping.source.policy is not None:
            return mapping.source.policy
    for target in snapshot.destinations:
        if target.arn == resource and target.policy is not None:
            return target.policy
    key = snapshot.kms_keys.get(resource)
    if key is not None:
        return key.policy
    return None


def run(snapshot: Snapshot) -> list[Finding]:
    denials = denials_in(snapshot.logs)
    if not denials:
        return []
    role_arn = snapshot.function.role_arn
    findings: list[Finding] = []
    rp = checked_role(snapshot)
    for denial in denials:
        parsed = denial.parsed
        action = parsed.action or ""
        if action.lower().startswith("sts:assumerole") and parsed.principal is not None:
            continue  # the assume-role check evaluates both sides
        if not is_role_session(parsed.principal, role_arn):
            findings.append(_other_principal(denial))
            continue
        if rp is None:
            continue  # the role does not exist: execution-role-trust reports it
        named = parsed.resource if parsed.resource and parsed.resource.startswith("arn:") else None
        named = named or _implied_resource(snapshot, denial)
        resource = named or "*"
        own_account = _account(resource) in (None, snapshot.account)
        policy = resource_policy_for(snapshot, resource)
        missing: list[str] = []
        if policy is None and not own_account:
            missing.append(f"the resource policy of {resource} (another account; not read)")
        ask = ask_role(
            snapshot,
            rp,
            action,
            resource,
            resource_policy=policy,
            resource_label=f"resource policy of {resource}" if policy else None,
            resource_missing=missing,
        )
        evidence = _line_evidence(denial)
        if ask.allowed:
            findings.append(_unexplained(snapshot, denial, ask, evidence, rp.loaded))
            continue
        scoped = near_misses(ask, rp.loaded) if named is None and not ask.explicit else []
        if scoped:
            findings.append(_unnamed_resource(snapshot, denial, ask, evidence, scoped))
            continue
        wording = Wording(
            fail=f"The function was denied {action} ({len(denial.lines)}× in its logs)",
            ok=f"The execution role may {action}",
            unknown=f"Could not decide why the function was denied {action}",
            purpose="so the function's code can make the call its logs show failing",
            context=(
                f"The function's logs show {action} on {parsed.resource or 'a resource'} denied "
                f"{len(denial.lines)} time(s) between {_iso(denial.first)} and {_iso(denial.last)}."
            ),
        )
        finding = role_finding(
            snapshot,
            rp,
            ID,
            [ask],
            wording,
            severity=Severity.HIGH,
            sid="LambdaWhyLogDenied",
        )
        finding.evidence = [*evidence, *finding.evidence]
        findings.append(finding)
    return findings


def _implied_resource(snapshot: Snapshot, denial: Denial) -> str | None:
    """The resource a resource-less message can only be about: Lambda's own
    `KMSAccessDeniedException ... decrypt the environment variables` is about the
    function's environment key."""
    key = snapshot.function.kms_key_arn
    if (
        key
        and (denial.parsed.action or "").lower() == "kms:decrypt"
        and any("environment variables" in line.message for line in denial.lines)
    ):
        known = find_key(snapshot, key)
        return known.arn if known is not None else key
    return None


def _unnamed_resource(
    snapshot: Snapshot, denial: Denial, ask: Ask, evidence: list[Evidence], scoped: list[Evidence]
) -> Finding:
    """A denial whose message names no resource, while the role grants the action on some
    resources: which one the code used cannot be told, so it is not a failure."""
    return Finding(
        check=ID,
        status=Status.WARN,
        severity=Severity.MEDIUM,
        title=f"The function was denied {ask.action} on a resource its logs do not name",
        detail=(
            f"The logs show {ask.action} denied {len(denial.lines)} time(s) between "
            f"{_iso(denial.first)} and {_iso(denial.last)} without naming the resource. The "
            f"execution role allows {ask.action} only on some resources (below): check that "
            "the code uses one of them, or widen the statement to the resource it uses."
        ),
        principal=snapshot.function.role_arn,
        actions=[ask.action],
        resources=["*"],
        denied_by=ask.denied_by,
        evidence=[*evidence, *scoped],
    )


def _unexplained(
    snapshot: Snapshot, denial: Denial, ask: Ask, evidence: list[Evidence], loaded: Loaded
) -> Finding:
    parsed = denial.parsed
    org = snapshot.organization
    unseen = ["session policies", "VPC endpoint policies"]
    if org is None or org.scp is None:
        unseen.insert(0, "SCPs and RCPs (not evaluated: no organization reader configured)")
    if _account(ask.resource) not in (None, snapshot.account):
        unseen.append(f"the resource policy of {ask.resource} in another account")
    said = ""
    if parsed.decision:
        said = (
            f" The message itself says {parsed.decision.replace('_', ' ')}"
            + (f" in a {parsed.policy_type} policy" if parsed.policy_type else "")
            + "."
        )
    return Finding(
        check=ID,
        status=Status.WARN,
        severity=Severity.MEDIUM,
        title=f"The function was denied {ask.action}, but its role's policies allow it",
        detail=(
            f"The logs show {ask.action} on {parsed.resource or 'a resource'} denied "
            f"{len(denial.lines)} time(s) between {_iso(denial.first)} and {_iso(denial.last)}, "
            f"yet the execution role's policies read now allow it.{said} Either the policy was "
            f"fixed since, or the denial comes from what was not evaluated: {', '.join(unseen)}."
        ),
        principal=snapshot.function.role_arn,
        actions=[ask.action],
        resources=[ask.resource],
        denied_by=[parsed.policy_type] if parsed.policy_type in _TYPES else [],
        evidence=[*evidence, *allow_evidence([ask], loaded)],
    )


_TYPES = ("identity", "resource", "boundary", "session", "scp", "rcp")


def _other_principal(denial: Denial) -> Finding:
    parsed = denial.parsed
    return Finding(
        check=ID,
        status=Status.WARN,
        severity=Severity.MEDIUM,
        title=f"{parsed.principal} was denied {parsed.action}",
        detail=(
            f"The function's logs show {parsed.principal} — not the execution role (a role the "
            f"code assumed, or a client it calls) — denied {parsed.action} on "
            f"{parsed.resource or 'a resource'} {len(denial.lines)} time(s). Run `lambda-why "
            "explain` on the line to evaluate that principal's policies."
        ),
        principal=parsed.principal,
        actions=[parsed.action or ""],
        resources=[parsed.resource] if parsed.resource else [],
        denied_by=[parsed.policy_type] if parsed.policy_type in _TYPES else [],
        evidence=_line_evidence(denial),
    )


def _line_evidence(denial: Denial) -> list[Evidence]:
    return [
        Evidence(policy=None, sid=None, text=f"{_iso(line.time)} {line.message.strip()[:500]}")
        for line in denial.lines[:MAX_EVIDENCE_LINES]
    ]


def _account(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) > 4 and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
