"""Policy hygiene: actions in the role's policies that do not exist.

A misspelt action (`lambda:InvokeFunctions`, `s3:GetObjects`) grants nothing, which is a
common hidden cause of AccessDenied. Each unknown action is reported with the nearest
real action of the same service. Known actions come from the IAM service authorization
reference (`bot.iam.catalogue`).
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

import difflib

from bot.checks.common import checked_role, json_compact, statement_text, statements_of
from bot.checks.fixes import q
from bot.iam import PolicyError, parse_policy
from bot.iam.catalogue import expand_action, service_known, unknown_actions
from bot.report import Evidence, Finding, Fix, Severity, Status
from bot.snapshot import NamedPolicy, Snapshot

ID = "unknown-actions"


def suggest(action: str) -> str | None:
    """The closest real action of the same service (case-insensitive), if any is close."""
    service, _, name = action.partition(":")
    if not service_known(service):
        return None
    candidates = expand_action(f"{service}:*")
    by_lower = {c.split(":", 1)[1].lower(): c for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[match[0]] if match else None


def run(snapshot: Snapshot) -> list[Finding]:
    rp = checked_role(snapshot)
    if rp is None or snapshot.role is None:
        return []
    role = snapshot.role
    out: list[Finding] = []
    policies: list[NamedPolicy] = [*role.inline_policies, *role.attached_policies]
    if role.boundary is not None:
        policies.append(role.boundary)
    for named in policies:
        if named.document is None or named.kind == "aws-managed":
            continue
        try:
            policy = parse_policy(named.document, named.label)
        except PolicyError as exc:
            out.append(
                Finding(
                    check=ID,
                    status=Status.WARN,
                    severity=Severity.MEDIUM,
                    title=f"Policy {named.name} could not be parsed",
                    detail=f"{exc}. Its statements were left out of every decision.",
                    principal=rp.role_arn,
                )
            )
            continue
        unknown = unknown_actions(policy)
        if not unknown:
            continue
        evidence = []
        for stmt in statements_of(named.document):
            raw = stmt.get("Action", stmt.get("NotAction", []))
            listed = [raw] if isinstance(raw, str) else list(raw)
            if any(a in unknown for a in listed):
                evidence.append(
                    Evidence(policy=named.label, sid=stmt.get("Sid"), text=statement_text(stmt))
                )
        hints = []
        for action in unknown:
            better = suggest(action)
            hints.append(f"{action} (did you mean {better}?)" if better else action)
        fixed = _corrected(named, {a: suggest(a) for a in unknown})
        commands = []
        if fixed is not None:
            doc = json_compact(fixed)
            if named.kind == "inline":
                commands.append(
                    f"aws iam put-role-policy --role-name {q(role.name)} --policy-name "
                    f"{q(named.name)} --policy-document {q(doc)}"
                )
            elif named.arn:
                commands.append(
                    f"aws iam create-policy-version --policy-arn {q(named.arn)} "
                    f"--policy-document {q(doc)} --set-as-default"
                )
        out.append(
            Finding(
                check=ID,
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title=f"Policy {named.name} names actions that do not exist",
                detail=(
                    f"{named.label} names {', '.join(hints)}. An unknown action matches "
                    "nothing, so these statements grant nothing for it."
                ),
                principal=rp.role_arn,
                actions=unknown,
                evidence=evidence,
                fix=Fix(
                    summary="Correct the action names: "
                    + ", ".join(f"{a} → {suggest(a)}" for a in unknown if suggest(a) is not None)
                    if any(suggest(a) for a in unknown)
                    else "Remove or correct the unknown action names.",
                    policy=fixed,
                    commands=commands,
                ),
            )
        )
    return out


def _corrected(named: NamedPolicy, fixes: dict[str, str | None]) -> dict[str, object] | None:
    if named.document is None or not any(fixes.values()):
        return None
    doc = dict(named.document)
    new_statements = []
    for stmt in statements_of(named.document):
        s = dict(stmt)
        for key in ("Action", "NotAction"):
            if key in s:
                raw = s[key]
                if isinstance(raw, str):
                    s[key] = fixes.get(raw) or raw
                else:
                    s[key] = [fixes.get(a) or a for a in raw]
        new_statements.append(s)
    doc["Statement"] = new_statements
    return doc
