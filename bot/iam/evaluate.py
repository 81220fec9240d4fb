"""AWS's policy evaluation logic: one request against a PolicySet, explained.

1. An explicit Deny in any applicable policy wins.
2. Every SCP level (principal's account) and every RCP level (resource's account) must
   allow. SCPs don't restrict service principals, service-linked roles or anonymous
   callers; RCPs don't restrict service-linked roles and govern only the services that
   support them (S3, STS, KMS, SQS, Secrets Manager, ...), for every other caller.
3. Same account: an identity-based policy OR the resource-based policy must allow. A
   resource policy naming only the account delegates to identity policies. A resource
   policy naming the IAM user, or the assumed-role session itself, grants even when the
   permissions boundary or session policy does not allow; naming the role does not.
4. Cross-account: the identity-based policy AND the resource-based policy must allow
   (naming the caller's account in the resource policy is enough on that side).
5. The permissions boundary and the session policy, when present, must allow.
6. Service principals and anonymous callers are judged on the resource policy alone; the
   account's root user has every permission that its account's identity policies could
   grant (only Denies, SCPs, RCPs and, cross-account, the resource policy limit it).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.iam import memo
from bot.iam.conditions import Condition
from bot.iam.context import Reader, base_context, build_context
from bot.iam.model import Decision, PolicyType, Request, StatementRef, Verdict
from bot.iam.policy import Policy, PolicySet, Statement
from bot.iam.principal import (
    ACCOUNT_MATCH,
    ANONYMOUS,
    ASSUMED_ROLE,
    DIRECT_MATCH,
    FEDERATED_USER,
    IAM_KINDS,
    NO_MATCH,
    PARENT_MATCH,
    ROOT,
    SERVICE,
    USER,
    Caller,
    parse_caller,
)
from bot.iam.variables import Context

#: canonical order of policy types in `denied_by`
ORDER = (
    PolicyType.IDENTITY,
    PolicyType.RESOURCE,
    PolicyType.BOUNDARY,
    PolicyType.SESSION,
    PolicyType.SCP,
    PolicyType.RCP,
)
_NAMES = {
    PolicyType.IDENTITY: "identity-based policy",
    PolicyType.RESOURCE: "resource-based policy",
    PolicyType.BOUNDARY: "permissions boundary",
    PolicyType.SESSION: "session policy",
    PolicyType.SCP: "service control policy",
    PolicyType.RCP: "resource control policy",
}

#: enum members bound once (attribute access on an Enum class is slow in the hot path)
_IDENTITY = PolicyType.IDENTITY
_RESOURCE = PolicyType.RESOURCE
_BOUNDARY = PolicyType.BOUNDARY
_SESSION = PolicyType.SESSION
_SCP = PolicyType.SCP
_RCP = PolicyType.RCP
_ALLOWED = Verdict.ALLOWED
_IMPLICIT = Verdict.IMPLICIT_DENY
_EXPLICIT = Verdict.EXPLICIT_DENY

#: a statement that applies: its policy type, StatementRef and description
Hit = tuple[PolicyType, StatementRef, str]
#: a decision's parts: verdict, denied_by, statements, explanation
_Shape = tuple[Verdict, tuple[PolicyType, ...], tuple[StatementRef, ...], str]
#: policy types that only limit (they never grant on their own)
_GUARDRAILS = frozenset({PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.SCP, PolicyType.RCP})
_M = TypeVar("_M", bound=BaseModel)
_FIELDS: dict[type[BaseModel], frozenset[str]] = {}
_NO_CONTEXT: Context = {}


#: services whose resources RCPs govern; an RCP has no effect on any other action
#: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services
RCP_SERVICES = frozenset(
    {
        "s3",
        "sts",
        "kms",
        "sqs",
        "secretsmanager",
        "ecr",
        "aoss",
        "cognito-idp",
        "logs",
        "dynamodb",
    }
)


def rcp_applies(action: str) -> bool:
    """Do RCPs govern this (lower-case) action? Only for the services that support them."""
    return action.partition(":")[0] in RCP_SERVICES


def _rcps_bind(policies: PolicySet, caller: Caller, action: str) -> bool:
    """RCPs bind every caller, service principals and anonymous ones included, except
    service-linked roles; and only on the services that support them."""
    return policies.rcp is not None and not caller.service_linked and rcp_applies(action)


def resource_account_of(request: Request, caller: Caller) -> str | None:
    """The resource's account: given, else the ARN's account field, else the caller's."""
    if request.resource_account:
        return request.resource_account
    parts = request.resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[4] and parts[4] != "aws":
        return parts[4]  # ("aws" is the owner of AWS managed policies: no account)
    return caller.account


#: one statement that applies to a request's static parts: (policy type, statement, how
#: its Principal names the caller, SCP/RCP level or -1, depends on context, its Hit)
Entry = tuple[PolicyType, Statement, int, int, bool, Hit]


class _Plan:
    """What a request's static parts decide before its context is read.

    The static parts are the principal, action, resource and resource account, and the
    policy objects. The plan lists every statement whose Action, Resource (unless it holds
    a policy variable) and Principal match, in evaluation order; the statements that also
    depend on the context (a Condition, or a Resource with a policy variable) each get a
    bit, tested per request. The Decision depends only on the plan and on which of those
    tests held (the `mask`): with the memo tables on, `shapes` keeps it per mask, so
    repeated request shapes skip the conclusion and its explanation text.
    """

    __slots__ = (
        "caller",
        "entries",
        "reader",
        "reads",
        "resource",
        "resource_account",
        "shapes",
        "tests",
    )

    def __init__(self, request: Request, policies: PolicySet) -> None:
        caller = self.caller = parse_caller(request.principal)
        kind = caller.kind
        action = request.action.lower()
        resource = self.resource = request.resource
        self.resource_account = resource_account_of(request, caller)
        iam = kind in IAM_KINDS
        boundary_attached = iam and policies.boundary is not None and kind != ROOT
        # (policy type, policy, SCP/RCP level) in evaluation order
        scans: list[tuple[PolicyType, Policy, int]] = []
        if policies.scp is not None and iam and not caller.service_linked:
            for level, policies_at in enumerate(policies.scp):
                for policy in policies_at:
                    scans.append((_SCP, policy, level))
        if policies.rcp is not None and _rcps_bind(policies, caller, action):
            for level, policies_at in enumerate(policies.rcp):
                for policy in policies_at:
                    scans.append((_RCP, policy, level))
        if iam and kind != ROOT:
            for policy in policies.identity:
                scans.append((_IDENTITY, policy, -1))
            if policies.boundary is not None:
                scans.append((_BOUNDARY, policies.boundary, -1))
            if policies.session is not None:
                scans.append((_SESSION, policies.session, -1))
        if policies.resource is not None:
            scans.append((_RESOURCE, policies.resource, -1))
        entries: list[Entry] = []
        tests: list[tuple[int, Statement | None, tuple[Condition, ...]]] = []
        reads: set[str] = set()
        for ptype, policy, level in scans:
            principal_required = ptype is _RESOURCE
            for statement in policy.candidates(action):
                resources = statement.resources
                if (
                    resources is not None
                    and not statement.dynamic_resource
                    and resources.matches(resource, _NO_CONTEXT) is statement.not_resource
                ):
                    continue
                spec = statement.principal
                if spec is None:
                    if principal_required:
                        continue
                    match = DIRECT_MATCH
                elif statement.not_principal:
                    # A Deny with NotPrincipal always applies to a principal with a boundary.
                    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
                    if not statement.allow and boundary_attached:
                        match = DIRECT_MATCH
                    else:
                        match = NO_MATCH if spec.excludes(caller) else DIRECT_MATCH
                else:
                    match = spec.match(caller)
                if match == NO_MATCH:
                    continue
                tested = bool(statement.conditions) or statement.dynamic_resource
                if tested:
                    dynamic = statement if statement.dynamic_resource else None
                    tests.append((1 << len(entries), dynamic, statement.conditions))
                    reads |= statement.reads
                entries.append(
                    (ptype, statement, match, level, tested, _hit(ptype, policy, statement))
                )
        self.entries = tuple(entries)
        #: (bit, the statement when its Resource holds a variable, its conditions)
        self.tests = tuple(tests)
        self.reads = frozenset(reads)
        self.reader: Reader | None = None
        #: mask of the context-dependent statements that held -> (verdict, denied_by,
        #: statements, explanation); filled with the memo tables on
        self.shapes: dict[int, _Shape] = {}

    def held(self, given: Mapping[str, Any]) -> int:
        """`mask` for a request's given context, read through the plan's own Reader."""
        reader = self.reader
        if reader is None:
            # builds the part of a context that the tests read
            base = base_context(self.caller, self.resource_account)
            reader = self.reader = Reader(base, self.reads)
        ctx = reader.read(given)
        # as `mask`, inlined (the hot path)
        resource = self.resource
        mask = 0
        for bit, dynamic, conditions in self.tests:
            if dynamic is not None and not dynamic.matches_resource(resource, ctx):
                continue
            for condition in conditions:
                if not condition.holds(ctx):
                    break
            else:
                mask |= bit
        return mask

    def mask(self, ctx: Context) -> int:
        """Which context-dependent statements hold in this request's context."""
        resource = self.resource
        mask = 0
        for bit, dynamic, conditions in self.tests:
            if dynamic is not None and not dynamic.matches_resource(resource, ctx):
                continue
            for condition in conditions:
                if not condition.holds(ctx):
                    break
            else:
                mask |= bit
        return mask

    def conclude(self, request: Request, policies: PolicySet, mask: int) -> _Shape:
        """The decision for the statements that hold (the static ones and those in `mask`).

        `request` and `policies` are the ones the plan was built for; only the request's
        static parts are passed on: a conclusion may not depend on the context.
        """
        allows: list[Hit] = []
        denies: list[Hit] = []
        scp_levels = [False] * len(policies.scp or ())
        rcp_levels = [False] * len(policies.rcp or ())
        identity_allows = boundary_allows = session_allows = False
        resource_best = NO_MATCH
        bit = 1
        for ptype, statement, match, level, tested, hit in self.entries:
            held = not tested or mask & bit
            bit <<= 1
            if not held:
                continue
            if not statement.allow:
                denies.append(hit)
                continue
            allows.append(hit)
            if ptype is _SCP:
                scp_levels[level] = True
            elif ptype is _RCP:
                rcp_levels[level] = True
            elif ptype is _IDENTITY:
                identity_allows = True
            elif ptype is _BOUNDARY:
                boundary_allows = True
            elif ptype is _SESSION:
                session_allows = True
            elif match > resource_best:
                resource_best = match
        caller = self.caller
        kind = caller.kind
        iam = kind in IAM_KINDS
        scp_failed = (
            policies.scp is not None and iam and not caller.service_linked and not all(scp_levels)
        )
        rcp_failed = _rcps_bind(policies, caller, request.action.lower()) and not all(rcp_levels)
        return _conclude(
            request.action,
            request.resource,
            policies,
            caller,
            resource_account=self.resource_account,
            allows=allows,
            denies=denies,
            scp_failed=scp_failed,
            rcp_failed=rcp_failed,
            identity_allows=identity_allows,
            boundary_allows=boundary_allows,
            session_allows=session_allows,
            resource_best=resource_best,
        )


def strict_resource_policy(action: str, resource: str) -> bool:
    """KMS key policies and role trust policies must themselves allow, even within the
    account: an identity-based policy alone grants nothing unless the key/trust policy
    names the account (delegating to IAM) or the principal.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
    """
    if action.startswith("kms:"):
        return resource != "*"
    return action.startswith("sts:") and ":role/" in resource


def _construct(cls: type[_M], values: dict[str, Any]) -> _M:
    """A pydantic model from already-valid values, every field given (no validation).

    Equivalent to `cls.model_construct(**values)` without its per-field work: the hot
    path builds a Decision per evaluation.
    """
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = frozenset(cls.model_fields)
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _decision(
    *,
    verdict: Verdict,
    denied_by: list[PolicyType],
    statements: list[StatementRef],
    explanation: str,
) -> Decision:
    return _construct(
        Decision,
        {
            "verdict": verdict,
            "denied_by": denied_by,
            "statements": statements,
            "explanation": explanation,
        },
    )


def _hit(ptype: PolicyType, policy: Policy, statement: Statement) -> Hit:
    """The Hit of a statement: its StatementRef and description ("Sid 'X' of label"),
    built once per (statement, policy type)."""
    found: Hit | None = statement.refs.get(ptype)
    if found is None or found[1].policy != policy.label:
        ref = _construct(
            StatementRef,
            {
                "policy": policy.label,
                "sid": statement.sid,
                "effect": statement.effect,
                "index": statement.index,
                "policy_type": ptype,
            },
        )
        name = f"Sid {statement.sid!r}" if statement.sid else f"statement {statement.index}"
        found = statement.refs[ptype] = (ptype, ref, f"{name} of {policy.label}")
    return found


#: a policy set as a plan was built for: copies of its lists, the policy objects, the plan
_Built = tuple[
    list[Policy],
    Policy | None,
    Policy | None,
    Policy | None,
    list[list[Policy]] | None,
    list[list[Policy]] | None,
    "_Plan",
]
#: (principal, action, resource, resource account) -> the plans built for policy sets
_PLANS: dict[tuple[str, str, str, str | None], list[_Built]] = {}
memo.on_clear(_PLANS.clear)
#: policy sets kept per request's static parts
_SETS_LIMIT = 8
#: distinct condition outcomes kept per plan
_SHAPES_LIMIT = 64
_ENABLED = memo.ENABLED
#: a Decision built from already-valid values, as `_construct` does, inlined for the hot path
_new = Decision.__new__
_DECISION_FIELDS = frozenset(Decision.model_fields)
#: BaseModel's own slot descriptors, called directly (cheaper than object.__setattr__)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _copy_levels(levels: list[list[Policy]] | None) -> list[list[Policy]] | None:
    """A copy that compares equal to `levels` (of the same sequence types) until it changes."""
    return None if levels is None else type(levels)(level[:] for level in levels)


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request as AWS would, and say why. Pure; never raises on valid models."""
    if _ENABLED[0]:
        key = (request.principal, request.action, request.resource, request.resource_account)
        plan = None
        found = _PLANS.get(key)
        if found is not None:
            # the plan built for the same policy objects (parsed policies never change)
            for identity, resource, boundary, session, scp, rcp, candidate in found:
                if (
                    resource is policies.resource
                    and boundary is policies.boundary
                    and session is policies.session
                    and identity == policies.identity
                    and scp == policies.scp
                    and rcp == policies.rcp
                ):
                    plan = candidate
                    break
        if plan is None:
            plan = _Plan(request, policies)
            if found is None:
                if len(_PLANS) >= memo.LIMIT:
                    _PLANS.clear()
                found = _PLANS[key] = []
            elif len(found) >= _SETS_LIMIT:
                found.clear()
            found.append(
                (
                    policies.identity[:],
                    policies.resource,
                    policies.boundary,
                    policies.session,
                    _copy_levels(policies.scp),
                    _copy_levels(policies.rcp),
                    plan,
                )
            )
        mask = plan.held(request.context) if plan.tests else 0
        shapes = plan.shapes
        shape = shapes.get(mask)
        if shape is None:
            shape = plan.conclude(request, policies, mask)
            if len(shapes) >= _SHAPES_LIMIT:
                shapes.clear()
            shapes[mask] = shape
    else:
        plan = _Plan(request, policies)
        if plan.tests:
            ctx = build_context(request.context, plan.caller, plan.resource_account)
            mask = plan.mask(ctx)
        else:
            mask = 0
        shape = plan.conclude(request, policies, mask)
    verdict, denied_by, refs, explanation = shape
    decision = _new(Decision)
    _set_dict(
        decision,
        {
            "verdict": verdict,
            "denied_by": [*denied_by],
            "statements": [*refs],
            "explanation": explanation,
        },
    )
    _set_fields(decision, {*_DECISION_FIELDS})
    _set_extra(decision, None)
    _set_private(decision, None)
    return decision


def _conclude(
    request_action: str,
    resource: str,
    policies: PolicySet,
    caller: Caller,
    *,
    resource_account: str | None,
    allows: list[Hit],
    denies: list[Hit],
    scp_failed: bool,
    rcp_failed: bool,
    identity_allows: bool,
    boundary_allows: bool,
    session_allows: bool,
    resource_best: int,
) -> _Shape:
    """AWS's evaluation logic over the statements that apply, with the explanation.

    It sees the request's static parts only (the action as given and the resource): the
    memo tables keep its answer per plan and condition outcome.
    """
    kind = caller.kind
    action = request_action.lower()
    iam = kind in IAM_KINDS

    if denies:
        types = {hit[0] for hit in denies}
        denied_by = [t for t in ORDER if t in types]
        return (
            _EXPLICIT,
            tuple(denied_by),
            tuple(hit[1] for hit in denies),
            "Explicitly denied by "
            + "; ".join(f"{_NAMES[hit[0]]} {hit[2]}" for hit in denies)
            + ".",
        )

    failed: list[PolicyType] = []
    notes: list[str] = []
    same_account = caller.account is not None and caller.account == resource_account
    if iam:
        strict = policies.resource is not None and strict_resource_policy(action, resource)
        if kind == ROOT:
            if same_account and strict and resource_best == NO_MATCH:
                failed.append(_RESOURCE)
                notes.append("a key policy or trust policy must allow even the root user")
            elif not same_account and resource_best < ACCOUNT_MATCH:
                failed.append(_RESOURCE)
                notes.append(
                    "cross-account request: the resource-based policy must name the caller's "
                    "account"
                )
        else:
            bypass = False
            if same_account and strict:
                if resource_best == NO_MATCH:
                    if not identity_allows:
                        failed.append(_IDENTITY)
                    failed.append(_RESOURCE)
                    notes.append(
                        "a KMS key policy or role trust policy must allow (or name the "
                        "account) even within the account"
                    )
                elif resource_best == ACCOUNT_MATCH and not identity_allows:
                    failed.append(_IDENTITY)
                bypass = resource_best == DIRECT_MATCH and kind in (
                    USER,
                    ASSUMED_ROLE,
                    FEDERATED_USER,
                )
            elif same_account:
                grants = resource_best >= PARENT_MATCH
                bypass = resource_best == DIRECT_MATCH and kind in (
                    USER,
                    ASSUMED_ROLE,
                    FEDERATED_USER,
                )
                if not (identity_allows or grants):
                    failed.append(_IDENTITY)
                    if policies.resource is not None:
                        failed.append(_RESOURCE)
                        if resource_best == ACCOUNT_MATCH:
                            notes.append(
                                "the resource-based policy names only the account, which "
                                "leaves the decision to identity-based policies"
                            )
            else:
                if not identity_allows:
                    failed.append(_IDENTITY)
                if resource_best < ACCOUNT_MATCH:
                    failed.append(_RESOURCE)
                if not identity_allows or resource_best < ACCOUNT_MATCH:
                    notes.append(
                        "cross-account request: both the identity-based policy and the "
                        "resource-based policy must allow"
                    )
            if not bypass:
                if policies.boundary is not None and not boundary_allows:
                    failed.append(_BOUNDARY)
                if policies.session is not None and not session_allows:
                    failed.append(_SESSION)
    elif resource_best == NO_MATCH:
        failed.append(_RESOURCE)
        who = {SERVICE: "a service principal", ANONYMOUS: "an anonymous caller"}.get(
            kind, "this principal"
        )
        notes.append(f"for {who} only the resource-based policy can allow")
    if scp_failed:
        failed.append(_SCP)
    if rcp_failed:
        failed.append(_RCP)

    refs = [hit[1] for hit in allows]
    if not failed:
        granted = sorted({_NAMES[hit[0]] for hit in allows if hit[0] not in _GUARDRAILS})
        if kind == ROOT and same_account:
            why = "the account's root user has every permission in its own account"
        else:
            why = f"{', '.join(granted)} allow{'s' if len(granted) == 1 else ''} {request_action}"
        return (
            _ALLOWED,
            (),
            tuple(refs),
            f"Allowed: {why} on {resource}, and nothing denies it.",
        )
    ordered = [t for t in ORDER if t in failed]
    missing = ", ".join(_NAMES[t] for t in ordered)
    explanation = f"Implicitly denied: no Allow in the {missing} for {request_action} on {resource}"
    if notes:
        explanation += f" ({'; '.join(notes)})"
    return (_IMPLICIT, tuple(ordered), tuple(refs), explanation + ".")
