"""What every check shares: the policies in force, asking the evaluator, evidence.

A check asks questions ("may the execution role call `sqs:ReceiveMessage` on this queue?")
as `Ask`s; `ask_role` / `ask_principal` build the `PolicySet` AWS would evaluate (identity,
permissions boundary, SCP and RCP levels, the resource policy) and call `bot.iam.evaluate`.
Every permission decision goes through the evaluator; nothing here matches policies by hand.

An answer is *undecided* when an input could not be read (a policy document missing, a
policy that does not parse): then the finding is `unknown` and names the gap, unless a
readable policy already denies explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.iam import (
    Decision,
    Policy,
    PolicyError,
    PolicySet,
    Request,
    StatementRef,
    Verdict,
    evaluate,
    parse_policy,
)
from bot.report import Evidence, Finding, Severity, Status
from bot.snapshot import Gap, NamedPolicy, PolicyDocument, Snapshot

ContextValue = str | list[str]

#: what the evaluator is asked when a permission would be fine everywhere else
ALL_TYPES = ("identity", "resource", "boundary", "session", "scp", "rcp")


# --------------------------------------------------------------------------- documents


def statements_of(document: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The `Statement` list of a policy document (a single statement object becomes a list)."""
    if not document:
        return []
    raw = document.get("Statement", [])
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return [s for s in raw if isinstance(s, dict)]
    return []


def statement_text(statement: Mapping[str, Any]) -> str:
    return json.dumps(statement, separators=(",", ":"), sort_keys=False)


def _account_principal(value: str) -> str:
    if len(value) == 12 and value.isdigit():
        return f"arn:aws:iam::{value}:root"
    return value


def normalize_lambda_policy(document: Mapping[str, Any]) -> dict[str, Any]:
    """A Lambda function policy in the grammar AWS returns it in.

    Moto stores `AddPermission` requests almost verbatim: a bare account id as
    `Principal`, and `FunctionUrlAuthType` / `InvokedViaFunctionUrl` / `PrincipalOrgID` as
    statement keys instead of conditions. Real AWS returns `{"AWS": "arn:...:root"}` and
    `lambda:FunctionUrlAuthType` / `lambda:InvokedViaFunctionUrl` conditions. Both shapes
    are accepted; the result is always the AWS one.
    """
    out: dict[str, Any] = {k: v for k, v in document.items() if k != "Statement"}
    fixed: list[dict[str, Any]] = []
    for statement in statements_of(document):
        s = dict(statement)
        principal = s.get("Principal")
        if isinstance(principal, str) and principal != "*":
            if principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
                s["Principal"] = {"Service": principal}
            else:
                s["Principal"] = {"AWS": _account_principal(principal)}
        elif isinstance(principal, dict) and "AWS" in principal:
            aws = principal["AWS"]
            if isinstance(aws, str):
                s["Principal"] = {**principal, "AWS": _account_principal(aws)}
            elif isinstance(aws, list):
                s["Principal"] = {**principal, "AWS": [_account_principal(a) for a in aws]}
        condition: dict[str, dict[str, Any]] = {
            op: dict(values) for op, values in (s.get("Condition") or {}).items()
        }
        if "FunctionUrlAuthType" in s:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = s.pop(
                "FunctionUrlAuthType"
            )
        if "InvokedViaFunctionUrl" in s:
            value = s.pop("InvokedViaFunctionUrl")
            condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = str(value).lower()
        if "PrincipalOrgID" in s:
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = s.pop("PrincipalOrgID")
        for key in ("SourceArn", "SourceAccount"):
            if key in s:  # moto merges these, but be safe with raw AddPermission input
                value = s.pop(key)
                op = "ArnLike" if key == "SourceArn" else "StringEquals"
                condition.setdefault(op, {})[f"AWS:{key}"] = value
        for stray in ("EventSourceToken", "RevisionId", "FunctionName", "Qualifier"):
            s.pop(stray, None)
        if condition:
            s["Condition"] = condition
        fixed.append(s)
    out["Statement"] = fixed
    out.setdefault("Version", "2012-10-17")
    return out


# --------------------------------------------------------------------------- policy sets


@dataclass
class Loaded:
    """Parsed policies plus what could not be used, keyed by label for evidence."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: labels (and reasons) of policies that could not be read or parsed
    missing: list[str] = field(default_factory=list)

    def parse(self, document: Mapping[str, Any] | None, label: str) -> Policy | None:
        if document is None:
            self.missing.append(f"{label} (not read)")
            return None
        try:
            policy = parse_policy(document, label)
        except PolicyError as exc:
            self.missing.append(f"{label} (does not parse: {exc})")
            return None
        self.documents[label] = dict(document)
        return policy

    def statement(self, ref: StatementRef) -> dict[str, Any] | None:
        statements = statements_of(self.documents.get(ref.policy))
        if 0 <= ref.index < len(statements):
            return statements[ref.index]
        for s in statements:  # index unknown: fall back to the Sid
            if ref.sid is not None and s.get("Sid") == ref.sid:
                return s
        return None


@dataclass
class RolePolicies:
    """The policies that govern what the execution role may do (everything but resource)."""

    role_arn: str
    role_name: str
    identity: list[Policy]
    boundary: Policy | None
    scp: list[list[Policy]] | None
    rcp: list[list[Policy]] | None
    loaded: Loaded
    #: identity policy labels by kind, for fixes: inline name -> label, managed arn -> label
    named: dict[str, NamedPolicy]
    boundary_named: NamedPolicy | None
    exists: bool = True
    #: the role itself could not be read
    unreadable: str | None = None


def _org_levels(
    levels: list[list[NamedPolicy]] | None, loaded: Loaded, kind: str
) -> list[list[Policy]] | None:
    if levels is None:
        return None
    out: list[list[Policy]] = []
    for depth, level in enumerate(levels):
        parsed: list[Policy] = []
        for named in level:
            policy = loaded.parse(named.document, named.label)
            if policy is not None:
                parsed.append(policy)
        if not level:
            loaded.missing.append(f"{kind} level {depth} (no policies listed)")
        out.append(parsed)
    return out


def role_policies(snapshot: Snapshot) -> RolePolicies:
    """Identity, boundary, SCP and RCP policies of the function's execution role."""
    fn = snapshot.function
    role = snapshot.role
    loaded = Loaded()
    name = fn.role_arn.rsplit("/", 1)[-1]
    if role is None or not role.exists:
        gap = _first_gap(snapshot, ("iam:GetRole",), None)
        why = f"the execution role {fn.role_arn} could not be read"
        if gap is not None:
            why += f" ({gap.operation}: {gap.error})"
        loaded.missing.append(why)
        return RolePolicies(
            role_arn=fn.role_arn,
            role_name=name,
            identity=[],
            boundary=None,
            scp=None,
            rcp=None,
            loaded=loaded,
            named={},
            boundary_named=None,
            exists=not role_missing(snapshot),
            unreadable=why,
        )
    identity: list[Policy] = []
    named: dict[str, NamedPolicy] = {}
    for np in [*role.inline_policies, *role.attached_policies]:
        policy = loaded.parse(np.document, np.label)
        named[np.label] = np
        if policy is not None:
            identity.append(policy)
    for gap in snapshot.gaps:
        if gap.operation in {
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
        } and gap.resource in (None, role.arn, role.name):
            loaded.missing.append(f"the list of the role's policies ({gap.operation}: {gap.error})")
    boundary = None
    if role.boundary is not None:
        boundary = loaded.parse(role.boundary.document, role.boundary.label)
    org = snapshot.organization
    scp = _org_levels(org.scp, loaded, "SCP") if org is not None else None
    rcp = _org_levels(org.rcp, loaded, "RCP") if org is not None else None
    return RolePolicies(
        role_arn=role.arn,
        role_name=role.name,
        identity=identity,
        boundary=boundary,
        scp=scp,
        rcp=rcp,
        loaded=loaded,
        named=named,
        boundary_named=role.boundary,
        exists=role.exists,
    )


def _first_gap(snapshot: Snapshot, operations: Iterable[str], resource: str | None) -> Gap | None:
    ops = set(operations)
    for gap in snapshot.gaps:
        if gap.operation in ops and (resource is None or gap.resource in (None, resource)):
            return gap
    return None


def gaps_about(snapshot: Snapshot, resource: str | None) -> list[Gap]:
    """Gaps whose resource is (or names) `resource`."""
    if not resource:
        return []
    out = []
    for gap in snapshot.gaps:
        if gap.resource and (gap.resource == resource or resource in gap.resource):
            out.append(gap)
    return out


# --------------------------------------------------------------------------- asking


@dataclass
class Ask:
    """One authorization question and its answer."""

    principal: str
    action: str
    resource: str
    decision: Decision
    #: inputs that could not be used; a non-explicit answer is then undecided
    missing: list[str] = field(default_factory=list)
    #: False: a denial is a warning, not a failure
    required: bool = True
    resource_policy_label: str | None = None
    context: dict[str, ContextValue] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.decision.verdict is Verdict.ALLOWED

    @property
    def explicit(self) -> bool:
        return self.decision.verdict is Verdict.EXPLICIT_DENY

    @property
    def decided(self) -> bool:
        """True when the answer holds whatever the unreadable inputs say."""
        return not self.missing or self.explicit

    @property
    def denied_by(self) -> list[str]:
        return [t.value for t in self.decision.denied_by]


def role_context(
    snapshot: Snapshot, extra: Mapping[str, ContextValue] | None = None
) -> dict[str, ContextValue]:
    """Request context of calls made with the execution role's credentials."""
    ctx: dict[str, ContextValue] = {"aws:RequestedRegion": snapshot.region}
    if snapshot.role is not None:
        for key, value in snapshot.role.tags.items():
            ctx[f"aws:PrincipalTag/{key}"] = value
        if snapshot.role.tags:
            ctx["aws:PrincipalTagKeys"] = sorted(snapshot.role.tags)
        ctx["aws:PrincipalType"] = "AssumedRole"
        if snapshot.role.role_id:
            ctx["aws:userid"] = f"{snapshot.role.role_id}:{snapshot.function.name}"
    if extra:
        ctx.update(extra)
    return ctx


def resource_tag_context(
    snapshot: Snapshot, resource: str, documents: Iterable[Mapping[str, Any] | None]
) -> tuple[dict[str, ContextValue], list[str]]:
    """`aws:ResourceTag/*` of a resource the snapshot describes (event source, destination,
    KMS key), and what is missing when a policy tests resource tags that were not read."""
    known, tags = snapshot.tagged_resource(resource)
    if not known:
        return {}, []
    if tags is not None:
        context: dict[str, ContextValue] = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
        return context, []
    if any(d is not None and "ResourceTag/" in json.dumps(d) for d in documents):
        return {}, [f"the tags of {resource} (not read; a policy tests aws:ResourceTag)"]
    return {}, []


def ask_role(
    snapshot: Snapshot,
    rp: RolePolicies,
    action: str,
    resource: str,
    *,
    resource_policy: Mapping[str, Any] | None = None,
    resource_label: str | None = None,
    resource_missing: Sequence[str] = (),
    resource_account: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
    required: bool = True,
) -> Ask:
    """May the execution role call `action` on `resource`? (identity, boundary, org, resource)."""
    loaded = rp.loaded
    missing = list(loaded.missing)
    missing.extend(resource_missing)
    resource_policy_parsed: Policy | None = None
    if resource_policy is not None:
        label = resource_label or resource
        resource_policy_parsed = loaded.parse(resource_policy, label)
        if resource_policy_parsed is None:
            missing.append(loaded.missing[-1])
    tag_context, tag_missing = resource_tag_context(
        snapshot, resource, [*loaded.documents.values(), resource_policy]
    )
    missing.extend(tag_missing)
    ctx = role_context(snapshot, {**tag_context, **(context or {})})
    request = Request(
        principal=rp.role_arn,
        action=action,
        resource=resource,
        resource_account=resource_account or _account_of(resource) or snapshot.account,
        context=ctx,
    )
    owner = request.resource_account
    policies = PolicySet(
        identity=rp.identity,
        resource=resource_policy_parsed,
        boundary=rp.boundary,
        scp=rp.scp,
        # RCPs of the function's account govern only resources in that account
        rcp=rp.rcp if owner in (None, snapshot.account) else None,
    )
    decision = evaluate(request, policies)
    return Ask(
        principal=rp.role_arn,
        action=action,
        resource=resource,
        decision=decision,
        missing=_dedupe(missing),
        required=required,
        resource_policy_label=resource_label or (resource if resource_policy else None),
        context=ctx,
    )


def ask_principal(
    principal: str,
    action: str,
    resource: str,
    resource_policy: Mapping[str, Any] | None,
    *,
    loaded: Loaded,
    resource_label: str,
    resource_account: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
    caller_identity_unknown: bool = False,
    rcp: list[list[Policy]] | None = None,
    required: bool = True,
    extra_missing: Sequence[str] = (),
) -> Ask:
    """May a caller (service principal, account, IAM ARN) call `action` on `resource`?

    Only the resource side is known. For an IAM caller whose own policies were not read,
    `caller_identity_unknown` stands in an identity policy that allows the action, so the
    answer says whether the resource policy (and RCPs) let the caller in.
    """
    missing = list(extra_missing)
    parsed = None
    if resource_policy is not None:
        parsed = loaded.parse(resource_policy, resource_label)
        if parsed is None:
            missing.append(loaded.missing[-1])
    identity: list[Policy] = []
    if caller_identity_unknown:
        stand_in = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
        }
        identity.append(parse_policy(stand_in, "caller identity policies (not read)"))
    request = Request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=resource_account or _account_of(resource),
        context=dict(context or {}),
    )
    decision = evaluate(request, PolicySet(identity=identity, resource=parsed, rcp=rcp))
    return Ask(
        principal=principal,
        action=action,
        resource=resource,
        decision=decision,
        missing=_dedupe(missing),
        required=required,
        resource_policy_label=resource_label,
        context=dict(context or {}),
    )


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) >= 5 and parts[0] == "arn" and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None


def account_of(arn: str | None) -> str | None:
    return _account_of(arn) if arn else None


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --------------------------------------------------------------------------- evidence


def decision_evidence(asks: Sequence[Ask], loaded: Loaded) -> list[Evidence]:
    """The statements that decided the denials, then the nearest misses for implicit denies."""
    out: list[Evidence] = []
    seen: set[tuple[str | None, str | None, str]] = set()
    allow_seen: set[tuple[str, int]] = set()

    def add(ev: Evidence) -> None:
        key = (ev.policy, ev.sid, ev.text)
        if key not in seen:
            seen.add(key)
            out.append(ev)

    for ask in asks:
        if ask.allowed:
            continue
        for ref in ask.decision.statements:
            stmt = loaded.statement(ref)
            text = statement_text(stmt) if stmt is not None else f"{ref.effect} statement"
            if ref.effect == "Allow":  # allowed on one side, but another side is missing
                if not {"identity", "resource"} & set(ask.denied_by):
                    continue  # a boundary/SCP/RCP decided: the Allows are not the story
                if (ref.policy, ref.index) in allow_seen:
                    continue
                allow_seen.add((ref.policy, ref.index))
                side = ref.policy_type.value if ref.policy_type is not None else "one"
                text = f"allows it on the {side} side only: {text}"
            add(Evidence(policy=ref.policy, sid=ref.sid, text=text))
        if not ask.explicit:
            for ev in near_misses(ask, loaded):
                add(ev)
    return out


def near_misses(ask: Ask, loaded: Loaded) -> list[Evidence]:
    """Allow statements that grant the action, but not on this resource or not under these
    conditions: asked of the evaluator with each statement's Resource and Condition lifted."""
    out: list[Evidence] = []
    for label, document in loaded.documents.items():
        for stmt in statements_of(document):
            if stmt.get("Effect") != "Allow":
                continue
            if (
                "Condition" not in stmt
                and "NotResource" not in stmt
                and stmt.get("Resource") in ("*", ["*"])
            ):
                continue  # applies everywhere: not a near miss
            relaxed = {k: v for k, v in stmt.items() if k not in ("Condition", "NotResource")}
            relaxed["Resource"] = "*"
            probe_doc = {"Version": "2012-10-17", "Statement": [relaxed]}
            try:
                probe = parse_policy(probe_doc, label)
            except PolicyError:
                continue
            has_principal = "Principal" in relaxed or "NotPrincipal" in relaxed
            request = Request(
                principal=ask.principal,
                action=ask.action,
                resource=ask.resource,
                resource_account=_account_of(ask.resource),
                context=ask.context,
            )
            policies = PolicySet(resource=probe) if has_principal else PolicySet(identity=[probe])
            if not has_principal and _account_of(ask.principal) is None:
                continue  # identity statement for a service principal: not relevant
            if evaluate(request, policies).allowed:
                where = []
                if "Resource" in stmt or "NotResource" in stmt:
                    where.append(
                        "resource "
                        + json.dumps(stmt.get("Resource", {"NotResource": stmt.get("NotResource")}))
                    )
                if "Condition" in stmt:
                    where.append("condition " + json.dumps(stmt["Condition"]))
                out.append(
                    Evidence(
                        policy=label,
                        sid=stmt.get("Sid"),
                        text=f"allows {ask.action} only for {' and '.join(where)}: "
                        + statement_text(stmt),
                    )
                )
    return out


def missing_allow_evidence(asks: Sequence[Ask], rp: RolePolicies) -> list[Evidence]:
    """Implicit denies by a boundary or an SCP/RCP level: name what fails to allow."""
    out: list[Evidence] = []
    types = {t for a in asks if not a.allowed and not a.explicit for t in a.denied_by}
    actions = sorted({a.action for a in asks if not a.allowed})
    if "boundary" in types and rp.boundary_named is not None:
        out.append(
            Evidence(
                policy=rp.boundary_named.label,
                sid=None,
                text=f"permissions boundary does not allow {', '.join(actions)}",
            )
        )
    for kind, levels in (("scp", rp.scp), ("rcp", rp.rcp)):
        if kind not in types or not levels:
            continue
        for depth, level in enumerate(levels):
            blocked = [a.action for a in asks if not a.allowed and level_blocks(a, kind, level)]
            if not blocked:
                continue
            names = ", ".join(p.label for p in level) or "no policies"
            out.append(
                Evidence(
                    policy=level[0].label if len(level) == 1 else None,
                    sid=None,
                    text=f"{kind.upper()} level {depth} from the organization root ({names}) "
                    f"allows none of {', '.join(sorted(set(blocked)))}",
                )
            )
    return out


def level_blocks(ask: Ask, kind: str, level: list[Policy]) -> bool:
    """Does this one SCP/RCP level fail to allow the request (everything else allowing)?"""
    stand_in = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
        "stand-in",
    )
    request = Request(
        principal=ask.principal,
        action=ask.action,
        resource=ask.resource,
        resource_account=_account_of(ask.principal),
        context=ask.context,
    )
    policies = (
        PolicySet(identity=[stand_in], scp=[level])
        if kind == "scp"
        else PolicySet(identity=[stand_in], rcp=[level])
    )
    return not evaluate(request, policies).allowed


# --------------------------------------------------------------------------- findings


def verdict_of(asks: Sequence[Ask]) -> tuple[Status, list[Ask]]:
    """fail / unknown / warn / pass from a list of answers, and the answers that decided it."""
    required = [a for a in asks if a.required]
    optional = [a for a in asks if not a.required]
    hard = [a for a in required if not a.allowed and a.decided]
    if hard:
        return Status.FAIL, [a for a in asks if not a.allowed]
    undecided = [a for a in required if not a.decided]
    if undecided:
        return Status.UNKNOWN, undecided
    soft = [a for a in optional if not a.allowed and a.decided]
    if soft:
        return Status.WARN, soft
    if any(not a.decided for a in optional):
        return Status.UNKNOWN, [a for a in optional if not a.decided]
    return Status.PASS, []


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    status_order = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.PASS: 3}
    severity_order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}
    return sorted(
        findings,
        key=lambda f: (status_order[f.status], severity_order[f.severity], f.check, f.title),
    )


def unique(items: Iterable[str]) -> list[str]:
    return _dedupe(items)


def denied_types(asks: Sequence[Ask]) -> list[str]:
    types: list[str] = []
    for ask in asks:
        if not ask.allowed:
            types.extend(ask.denied_by)
    order = {t: i for i, t in enumerate(ALL_TYPES)}
    return sorted(set(types), key=lambda t: order.get(t, 99))


def missing_text(asks: Sequence[Ask]) -> str:
    items = unique(m for a in asks for m in a.missing)
    return "; ".join(items)


def unknown_finding(
    check: str,
    title: str,
    why: str,
    *,
    principal: str | None = None,
    actions: Sequence[str] = (),
    resources: Sequence[str] = (),
    source: str | None = None,
    severity: Severity = Severity.MEDIUM,
) -> Finding:
    return Finding(
        check=check,
        status=Status.UNKNOWN,
        severity=severity,
        title=title,
        detail=f"Could not be decided: {why}.",
        principal=principal,
        actions=list(actions),
        resources=list(resources),
        source=source,
    )


def pass_finding(
    check: str,
    title: str,
    detail: str,
    *,
    principal: str | None = None,
    actions: Sequence[str] = (),
    resources: Sequence[str] = (),
    source: str | None = None,
    evidence: Sequence[Evidence] = (),
) -> Finding:
    return Finding(
        check=check,
        status=Status.PASS,
        severity=Severity.INFO,
        title=title,
        detail=detail,
        principal=principal,
        actions=list(actions),
        resources=list(resources),
        source=source,
        evidence=list(evidence),
    )


def allow_evidence(asks: Sequence[Ask], loaded: Loaded) -> list[Evidence]:
    """The statements that granted (for pass findings)."""
    out: list[Evidence] = []
    seen: set[tuple[str, str | None]] = set()
    for ask in asks:
        for ref in ask.decision.statements:
            if ref.effect != "Allow" or (ref.policy, ref.sid) in seen:
                continue
            seen.add((ref.policy, ref.sid))
            stmt = loaded.statement(ref)
            out.append(
                Evidence(
                    policy=ref.policy,
                    sid=ref.sid,
                    text=statement_text(stmt) if stmt is not None else "Allow statement",
                )
            )
    return out


def explain_denial(asks: Sequence[Ask]) -> str:
    """One sentence per denied action: which policy types deny and how."""
    parts: list[str] = []
    for ask in asks:
        if ask.allowed:
            continue
        kinds = ", ".join(ask.denied_by) or "no policy"
        how = "explicitly denied" if ask.explicit else "not allowed"
        parts.append(f"{ask.action} on {ask.resource} is {how} ({kinds})")
    return "; ".join(parts)


def policy_type_names(types: Iterable[str]) -> str:
    names = {
        "identity": "identity-based policies",
        "resource": "resource-based policy",
        "boundary": "permissions boundary",
        "session": "session policy",
        "scp": "service control policy (SCP)",
        "rcp": "resource control policy (RCP)",
    }
    return ", ".join(names.get(t, t) for t in types)


def json_compact(document: Mapping[str, Any] | PolicyDocument) -> str:
    return json.dumps(document, separators=(",", ":"))


def checked_role(snapshot: Snapshot) -> RolePolicies | None:
    """The role's policies, or None when the role does not exist.

    A missing role is reported once, by the `execution-role-trust` check; the other
    role-based checks then yield no finding.
    """
    rp = role_policies(snapshot)
    return rp if rp.exists else None


def role_missing(snapshot: Snapshot) -> bool:
    """True when the execution role is known not to exist (not merely unreadable)."""
    role = snapshot.role
    if role is None or role.exists:
        return False
    gap = _first_gap(snapshot, ("iam:GetRole",), None)
    return gap is None or "NoSuchEntity" in gap.error or "cannot be found" in gap.error
