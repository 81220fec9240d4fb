"""Tie failing findings to the CloudTrail changes that plausibly caused them (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.report import Evidence, Finding, Status, utc_iso
from bot.snapshot import CloudTrailEvent, Snapshot
from bot.timeline.events import (
    KMS_CHANGES,
    Scope,
    actor_label,
    as_dict,
    key_id,
    normalise_name,
    org_scope,
    params_of,
    relevant_events,
    response_of,
    service_prefix,
    text_of,
)
from bot.timeline.summary import (
    added_statement,
    destination_targets,
    recreated_role,
    summarise,
    to_event,
)

MAX_RELATED = 5


_CAUSE_STATUSES = (Status.FAIL, Status.WARN)


def _statement_sids(document: Mapping[str, Any] | None) -> set[str]:
    if not document:
        return set()
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return {str(s.get("Sid")) for s in statements if isinstance(s, dict) and s.get("Sid")}


def _finding_kind(finding: Finding, snapshot: Snapshot) -> set[str]:
    actions = [a.lower() for a in finding.actions]
    role = snapshot.function.role_arn
    kinds: set[str] = set()
    if any(a.startswith("lambda:invokefunction") for a in actions) and finding.principal != role:
        kinds.add("invoke")
    if any(a == "sts:assumerole" for a in actions) and (
        finding.principal in (None, "lambda.amazonaws.com") or role in finding.resources
    ):
        kinds.add("trust")
    if finding.principal == role or (
        finding.principal is not None
        and f":assumed-role/{role.rsplit('/', 1)[-1]}/" in finding.principal
    ):
        kinds.add("role")
    if "scp" in finding.denied_by or "rcp" in finding.denied_by:
        kinds.add("org")
    if any(a.startswith("kms:") for a in actions):
        kinds.add("kms")
    if any(a.startswith("ec2:") and "networkinterface" in a for a in actions):
        kinds.add("vpc")
    if "lambda:getlayerversion" in actions:
        kinds.add("layer")
    if not kinds and finding.principal is None and actions:
        kinds.add("role")
    return kinds


def _names(finding: Finding, arn: str) -> bool:
    """Whether the finding is about `arn` (its source, or one of its resources)."""
    if not arn:
        return False
    return arn == finding.source or any(
        r == arn or r.startswith(arn + "/") or r.startswith(arn + ":") for r in finding.resources
    )


def _lambda_wiring_score(name: str, event: CloudTrailEvent, finding: Finding) -> int:
    """Mappings and destinations the function was wired to: a change that (re)pointed the
    function at the resource the finding is about explains it."""
    p = params_of(event)
    if name in ("CreateEventSourceMapping", "UpdateEventSourceMapping"):
        source = text_of(p.get("eventsourcearn") or response_of(event).get("eventsourcearn"))
        targets = [arn for _, arn in destination_targets(p.get("destinationconfig"))]
        if any(_names(finding, arn) for arn in targets):
            return 2
        if _names(finding, source):
            return 2 if name == "CreateEventSourceMapping" else 1
    if name in ("PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig"):
        targets = [arn for _, arn in destination_targets(p.get("destinationconfig"))]
        if any(_names(finding, arn) for arn in targets):
            return 2
    if name in ("UpdateFunctionConfiguration", "CreateFunction"):
        target = as_dict(p.get("deadletterconfig")).get("targetArn")
        if isinstance(target, str) and _names(finding, target):
            return 2
    return 0


def _org_score(name: str, event: CloudTrailEvent, snapshot: Snapshot) -> int:
    """An SCP/RCP change on the account's path, for a finding denied by an SCP or RCP."""
    policy_ids, targets = org_scope(snapshot)
    p = params_of(event)
    policy = text_of(p.get("policyid"))
    target = text_of(p.get("targetid"))
    if name == "UpdatePolicy" and policy in policy_ids:
        return 3
    if name == "AttachPolicy" and target in targets:
        return 3 if policy in policy_ids else 2
    if name == "DetachPolicy" and target in targets:
        return 2  # e.g. FullAWSAccess detached: nothing on that level allows any more
    return 0


def _score(event: CloudTrailEvent, finding: Finding, kinds: set[str], snapshot: Snapshot) -> int:
    """How strongly an event explains a finding: 0 not at all, 1 plausible, 2+ specific."""
    if event.error_code:
        return 0
    name = normalise_name(event.name)
    service = service_prefix(event.source)
    p = params_of(event)
    evidence = {e.policy for e in finding.evidence if e.policy}
    history = snapshot.cloudtrail or []
    score = 0
    if "invoke" in kinds and service == "lambda":
        if name == "RemovePermission":
            sid = str(p.get("statementid") or "")
            if sid and sid in _statement_sids(snapshot.resource_policy):
                return 0  # the statement is back: not the cause
            score = 1
            added = added_statement(event, history) or {}
            if added.get("principal") and added.get("principal") == finding.principal:
                score = 3
            if finding.source and added.get("sourcearn") == finding.source:
                score = 3
            source_name = (finding.source or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            if score < 3 and source_name and source_name in sid:
                score = 2
        elif name in ("UpdateFunctionUrlConfig", "DeleteFunctionUrlConfig") and any(
            a.lower() == "lambda:invokefunctionurl" for a in finding.actions
        ):
            score = 2
        elif name == "AddPermission" and p.get("principal") == finding.principal:
            # the caller's permission was (re)written, and what it allows does not fit:
            # another source, account or condition
            source = p.get("sourcearn")
            if finding.source and source == finding.source:
                score = 0  # it granted what is needed: later changes undid it
            else:
                score = 2 if finding.source and source else 1
        elif name in ("DeleteFunction", "CreateFunction"):
            score = 1
    scope = Scope.of(snapshot)
    if "trust" in kinds and service == "iam" and scope.touches_role(event):
        if name == "UpdateAssumeRolePolicy":
            score = max(score, 3)
        elif name == "DeleteRole":
            # the role is gone: its deletion is the cause; re-created since: plausible
            score = max(score, 3 if snapshot.role is None else 1)
        elif name == "CreateRole":
            score = max(score, 1)
    if "role" in kinds:
        if service == "iam":
            if name in ("DetachRolePolicy", "DeleteRolePolicy"):
                score = max(score, 2)
            elif name == "PutRolePermissionsBoundary":
                score = max(score, 3 if "boundary" in finding.denied_by else 2)
            elif name in ("PutRolePolicy", "AttachRolePolicy"):
                policy = p.get("policyarn") or f"{p.get('rolename')}/{p.get('policyname')}"
                if text_of(policy) in evidence or text_of(p.get("policyname")) in evidence:
                    score = max(score, 3)
                elif name == "PutRolePolicy":
                    score = max(score, 1)
            elif name in ("CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy"):
                score = max(score, 3 if text_of(p.get("policyarn")) in evidence else 2)
            elif name in ("CreateRole", "DeleteRole"):
                # a re-created role is a new principal: resource policies (key policies,
                # queue policies, ...) that named the old one now name its unique id
                recreated = recreated_role(event, history) is not None
                score = max(score, 2 if recreated and "resource" in finding.denied_by else 1)
        if service == "lambda" and name == "UpdateFunctionConfiguration" and p.get("role"):
            score = max(score, 2)
    if service == "lambda":
        score = max(score, _lambda_wiring_score(name, event, finding))
    if "org" in kinds and service == "organizations":
        score = max(score, _org_score(name, event, snapshot))
    if service == "lambda" and name == "UpdateFunctionConfiguration":
        if "vpc" in kinds and "vpcconfig" in p:
            score = max(score, 2)
        if "kms" in kinds and "kmskeyarn" in p:
            score = max(score, 2)
        if "layer" in kinds and "layers" in p:
            score = max(score, 2)
    neighbour = scope.neighbour_of(event)
    if neighbour is not None and (
        neighbour == finding.source
        or any(r == neighbour or r.startswith(neighbour + "/") for r in finding.resources)
    ):
        score = max(score, 2)
    if "kms" in kinds and service == "kms" and name in KMS_CHANGES - {"EnableKey", "CreateGrant"}:
        key = str(p.get("keyid") or "")
        in_finding = any(key and (key in r or key_id(key) in r) for r in finding.resources)
        score = max(score, 3 if in_finding else 2)
    return score


def cause_text(event: CloudTrailEvent, snapshot: Snapshot) -> str:
    """`alice (arn) removed invoke permission x (RemovePermission) at 2026-...Z from
    203.0.113.5`."""
    who = actor_label(event.actor)
    if event.actor and who != event.actor:
        who = f"{who} ({event.actor})"
    text = f"{who} {summarise(event, snapshot)} ({normalise_name(event.name)})"
    text += f" at {utc_iso(event.time)}"
    if event.source_ip:
        text += f" from {event.source_ip}"
    return text


def cause_evidence(event: CloudTrailEvent, snapshot: Snapshot) -> Evidence:
    """The likely cause as an evidence line, like the denials' CloudTrail lines."""
    text = f"CloudTrail {utc_iso(event.time)} {normalise_name(event.name)}"
    text += f" by {event.actor or 'an unknown caller'}"
    if event.source_ip:
        text += f" from {event.source_ip}"
    text += f" (event {event.event_id}): {summarise(event, snapshot)}"
    return Evidence(policy=None, sid=None, text=text[:1000])


def correlate(findings: list[Finding], snapshot: Snapshot) -> list[Finding]:
    """Findings with `related_events` (and a "Likely cause" in `detail`) where the timeline
    holds a plausible cause; other findings are returned unchanged."""
    events = relevant_events(snapshot)
    if not events:
        return list(findings)
    out: list[Finding] = []
    for finding in findings:
        if finding.status not in _CAUSE_STATUSES:
            out.append(finding)
            continue
        kinds = _finding_kind(finding, snapshot)
        scored = [(s, e) for e in events if (s := _score(e, finding, kinds, snapshot)) > 0]
        if not scored:
            out.append(finding)
            continue
        best_score = max(s for s, _ in scored)
        # the most specific, then the most recent
        best = max((e for s, e in scored if s == best_score), key=lambda e: e.time)
        related = sorted((e for _, e in scored), key=lambda e: e.time, reverse=True)
        related = [best, *[e for e in related if e is not best]][:MAX_RELATED]
        detail = finding.detail.rstrip()
        cause = f"Likely cause: {cause_text(best, snapshot)}."
        detail = f"{detail} {cause}".strip() if detail else cause
        out.append(
            finding.model_copy(
                update={
                    "detail": detail,
                    "evidence": [*finding.evidence, cause_evidence(best, snapshot)],
                    "related_events": [
                        *finding.related_events,
                        *[to_event(e, snapshot) for e in related],
                    ],
                }
            )
        )
    return out
