"""AWS's policy evaluation logic: one request against a PolicySet, explained.

1. An explicit Deny in any applicable policy wins.
2. Every SCP level (principal's account) and every RCP level (resource's account) must
   allow. SCPs don't restrict service principals, service-linked roles or anonymous
   callers; RCPs don't restrict service principals or service-linked roles.
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

from typing import Any, TypeVar

from pydantic import BaseModel

from bot.iam.context import build_context
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

Hit = tuple[PolicyType, Policy, Statement]
#: policy types that only limit (they never grant on their own)
_GUARDRAILS = frozenset({PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.SCP, PolicyType.RCP})
_M = TypeVar("_M", bound=BaseModel)
_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def resource_account_of(request: Request, caller: Caller) -> str | None:
    """The resource's account: given, else the ARN's account field, else the caller's."""
    if request.resource_account:
        return request.resource_account
    parts = request.resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[4] and parts[4] != "aws":
        return parts[4]  # ("aws" is the owner of AWS managed policies: no account)
    return caller.account


class _Scan:
    """One request being evaluated: what to match, and the statements that matched."""

    __slots__ = ("action", "allows", "boundary_attached", "caller", "ctx", "denies", "resource")

    def __init__(
        self, action: str, resource: str, ctx: Context, caller: Caller, boundary_attached: bool
    ) -> None:
        self.action = action
        self.resource = resource
        self.ctx = ctx
        self.caller = caller
        self.boundary_attached = boundary_attached
        self.allows: list[Hit] = []
        self.denies: list[Hit] = []

    def policy(self, policy: Policy, ptype: PolicyType) -> int:
        """Record the policy's matching statements; the best principal match of an Allow."""
        best = NO_MATCH
        principal_required = ptype is _RESOURCE
        action = self.action
        ctx = self.ctx
        for statement in policy.applicable(action, self.resource):
            if statement.dynamic_resource and not statement.matches_resource(self.resource, ctx):
                continue
            spec = statement.principal
            if spec is None:
                if principal_required:
                    continue
                match = DIRECT_MATCH
            elif statement.not_principal:
                # A Deny with NotPrincipal always applies to a principal with a boundary.
                # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
                if not statement.allow and self.boundary_attached:
                    match = DIRECT_MATCH
                else:
                    match = NO_MATCH if spec.excludes(self.caller) else DIRECT_MATCH
            else:
                match = spec.match(self.caller)
            if match == NO_MATCH:
                continue
            if statement.conditions and not statement.matches_conditions(ctx):
                continue
            if statement.allow:
                self.allows.append((ptype, policy, statement))
                best = max(best, match)
            else:
                self.denies.append((ptype, policy, statement))
        return best

    def levels(self, levels: list[list[Policy]], ptype: PolicyType) -> bool:
        """SCP/RCP levels: True when some level has no matching Allow."""
        failed = False
        for level in levels:
            allowed = False
            for policy in level:
                if self.policy(policy, ptype):
                    allowed = True
            failed = failed or not allowed
        return failed


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


def _ref(hit: Hit) -> StatementRef:
    """The StatementRef of a hit, built once per (statement, policy type)."""
    ptype, policy, statement = hit
    ref: StatementRef | None = statement.refs.get(ptype)
    if ref is None or ref.policy != policy.label:
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
        statement.refs[ptype] = ref
    return ref


def _describe(hit: Hit) -> str:
    _, policy, statement = hit
    name = f"Sid {statement.sid!r}" if statement.sid else f"statement {statement.index}"
    return f"{name} of {policy.label}"


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request as AWS would, and say why. Pure; never raises on valid models."""
    caller = parse_caller(request.principal)
    kind = caller.kind
    action = request.action.lower()
    resource = request.resource
    resource_account = resource_account_of(request, caller)
    ctx = build_context(request.context, caller, resource_account)
    iam = kind in IAM_KINDS
    boundary_attached = iam and policies.boundary is not None and kind != ROOT
    scan = _Scan(action, resource, ctx, caller, boundary_attached)
    scp_failed = rcp_failed = False
    if policies.scp is not None and iam and not caller.service_linked:
        scp_failed = scan.levels(policies.scp, _SCP)
    if policies.rcp is not None and kind != SERVICE and not caller.service_linked:
        rcp_failed = scan.levels(policies.rcp, _RCP)
    identity_allows = boundary_allows = session_allows = False
    if iam and kind != ROOT:
        for policy in policies.identity:
            if scan.policy(policy, _IDENTITY):
                identity_allows = True
        if policies.boundary is not None:
            boundary_allows = bool(scan.policy(policies.boundary, _BOUNDARY))
        if policies.session is not None:
            session_allows = bool(scan.policy(policies.session, _SESSION))
    resource_best = NO_MATCH
    if policies.resource is not None:
        resource_best = scan.policy(policies.resource, _RESOURCE)
    allows, denies = scan.allows, scan.denies

    if denies:
        types = {hit[0] for hit in denies}
        denied_by = [t for t in ORDER if t in types]
        return _decision(
            verdict=_EXPLICIT,
            denied_by=denied_by,
            statements=[_ref(hit) for hit in denies],
            explanation="Explicitly denied by "
            + "; ".join(f"{_NAMES[hit[0]]} {_describe(hit)}" for hit in denies)
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

    refs = [_ref(hit) for hit in allows]
    if not failed:
        granted = sorted({_NAMES[hit[0]] for hit in allows if hit[0] not in _GUARDRAILS})
        if kind == ROOT and same_account:
            why = "the account's root user has every permission in its own account"
        else:
            why = f"{', '.join(granted)} allow{'s' if len(granted) == 1 else ''} {request.action}"
        return _decision(
            verdict=_ALLOWED,
            denied_by=[],
            statements=refs,
            explanation=f"Allowed: {why} on {resource}, and nothing denies it.",
        )
    ordered = [t for t in ORDER if t in failed]
    missing = ", ".join(_NAMES[t] for t in ordered)
    explanation = f"Implicitly denied: no Allow in the {missing} for {request.action} on {resource}"
    if notes:
        explanation += f" ({'; '.join(notes)})"
    return _decision(
        verdict=_IMPLICIT,
        denied_by=ordered,
        statements=refs,
        explanation=explanation + ".",
    )
