"""Policy documents parsed and precompiled for fast evaluation.

Identity, resource (including role trust), boundary, session, SCP and RCP documents share
one grammar: Version 2012-10-17 (policy variables) or 2008-10-17 (no variables, the
default when Version is absent), Statement as an object or a list, and per statement Sid,
Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal and Condition.
A malformed document raises `PolicyError` naming the statement (index and Sid) and field.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from bot.iam import memo
from bot.iam.conditions import Condition, ConditionError, parse_block
from bot.iam.model import PolicyType
from bot.iam.principal import PrincipalSpec, parse_principal
from bot.iam.variables import Context, Template, compile_source, parse_template
from bot.iam.wildcard import arn_glob_to_regex, glob_to_regex, has_wildcard

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_ACTION = re.compile(r"^[^:\s]+:[^:\s]*$")
#: policy types whose statements may not name a principal
_NO_PRINCIPAL = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.SESSION})


_MEMO_LIMIT = memo.LIMIT


class PolicyError(ValueError):
    """A malformed policy document. The message names the policy, statement and field."""


#: how a statement's Action/NotAction covers the actions of one service
NEVER = 0
ALWAYS = 1
DEPENDS = 2


def _service_star(pattern: str) -> bool:
    """Is a (lower-case) action pattern exactly `service:*`?"""
    service = pattern[:-2]
    return (
        pattern.endswith(":*")
        and bool(service)
        and not has_wildcard(service)
        and ":" not in service
    )


class ActionMatcher:
    """Action patterns, case-insensitive, `*` and `?` wildcards.

    Fast paths before the regex: `*`, exact names, and `service:*` (every action of a
    service, compared by the service prefix).
    """

    __slots__ = (
        "any_service",
        "everything",
        "exact",
        "exact_services",
        "patterns",
        "regex",
        "regex_services",
        "services",
        "wild",
    )

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = tuple(patterns)
        lowered = [p.lower() for p in patterns]
        self.everything = "*" in lowered
        self.exact = frozenset(p for p in lowered if not has_wildcard(p))
        wildcards = [p for p in lowered if has_wildcard(p) and p != "*"]
        #: services named as `service:*` (a non-empty service prefix, no wildcard, no colon)
        by_service = [p for p in wildcards if _service_star(p)]
        self.services = frozenset(p[:-2] for p in by_service)
        rest = [glob_to_regex(p) for p in wildcards if p not in by_service]
        self.regex = re.compile("|".join(f"(?:{w})" for w in rest), re.DOTALL) if rest else None
        #: some pattern holds a wildcard: the matcher may match names it does not list
        self.wild = self.everything or bool(wildcards)
        #: the services of the exact names, and the service parts (before the first
        #: colon) of the regex patterns; `any_service`: some regex pattern's service part
        #: holds a wildcard (or it has no colon), so it may match any service
        self.exact_services = frozenset(p.partition(":")[0] for p in self.exact)
        heads = [p.partition(":") for p in wildcards if p not in by_service]
        self.regex_services = frozenset(h for h, colon, _ in heads if colon and not has_wildcard(h))
        self.any_service = any(not colon or has_wildcard(h) for h, colon, _ in heads)

    def covers(self, service: str | None) -> int:
        """Does the matcher match the actions `service:...` it does not name exactly:
        ALWAYS, NEVER, or it DEPENDS on the action name? (None: a service that none of
        its patterns names.)"""
        if self.everything or (service is not None and service in self.services):
            return ALWAYS
        if self.any_service or (service is not None and service in self.regex_services):
            return DEPENDS
        return NEVER

    def matches(self, action: str) -> bool:
        """`action` must already be lower case."""
        if self.everything or action in self.exact:
            return True
        if self.services:
            service, colon, _ = action.partition(":")
            if colon and service in self.services:
                return True
        return self.regex is not None and self.regex.fullmatch(action) is not None


class ResourceMatcher:
    """Resource ARN patterns: segment-wise wildcards, policy variables resolved per request.

    Fast paths before the regex: `*`, exact ARNs, and ARNs whose only wildcard is a final
    `*` (a prefix: the star is in the resource part, where it spans `/` and `:`, or the
    pattern has fewer than six segments and is a plain glob).
    """

    __slots__ = ("everything", "exact", "patterns", "prefixes", "regex", "templates")

    def __init__(self, patterns: list[str], variables: bool) -> None:
        self.patterns = tuple(patterns)
        self.everything = "*" in patterns
        static: list[str] = []
        exact: set[str] = set()
        prefixes: list[str] = []
        templates: list[Template] = []
        for pattern in patterns:
            template = parse_template(pattern, variables)
            if template is not None:
                templates.append(template)
            elif not has_wildcard(pattern):
                exact.add(pattern)
            elif pattern.endswith("*") and not has_wildcard(pattern[:-1]):
                prefixes.append(pattern[:-1])
            else:
                static.append(arn_glob_to_regex(pattern))
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)
        self.regex = re.compile("|".join(f"(?:{s})" for s in static), re.DOTALL) if static else None
        self.templates = tuple(templates)

    def matches(self, resource: str, ctx: Context) -> bool:
        if self.everything or resource in self.exact:
            return True
        if self.prefixes and resource.startswith(self.prefixes):
            return True
        if self.regex is not None and self.regex.fullmatch(resource) is not None:
            return True
        for template in self.templates:
            source = template.glob_source(ctx, arn=True)
            if source is not None and compile_source(source).fullmatch(resource):
                return True
        return False


class Statement:
    """One compiled statement."""

    __slots__ = (
        "actions",
        "allow",
        "conditions",
        "dynamic_resource",
        "effect",
        "index",
        "not_action",
        "not_principal",
        "not_resource",
        "principal",
        "raw",
        "reads",
        "refs",
        "resources",
        "sid",
    )

    def __init__(
        self,
        *,
        index: int,
        sid: str | None,
        effect: str,
        actions: ActionMatcher,
        not_action: bool,
        resources: ResourceMatcher | None,
        not_resource: bool,
        principal: PrincipalSpec | None,
        not_principal: bool,
        conditions: tuple[Condition, ...],
        raw: Mapping[str, Any],
    ) -> None:
        self.index = index
        self.sid = sid
        self.effect = effect
        self.allow = effect == "Allow"
        self.actions = actions
        self.not_action = not_action
        self.resources = resources
        self.not_resource = not_resource
        #: the Resource/NotResource holds a policy variable: matched per request
        self.dynamic_resource = resources is not None and bool(resources.templates)
        self.principal = principal
        self.not_principal = not_principal
        self.conditions = conditions
        self.raw = raw
        #: every context key its Condition and Resource variables read
        reads: set[str] = set()
        for condition in conditions:
            reads |= condition.reads
        if resources is not None:
            for template in resources.templates:
                reads |= template.keys
        self.reads = frozenset(reads)
        #: StatementRef per policy type, built once by the evaluator
        self.refs: dict[Any, Any] = {}

    def matches_action(self, action: str) -> bool:
        return self.actions.matches(action) is not self.not_action

    def matches_resource(self, resource: str, ctx: Context) -> bool:
        if self.resources is None:
            return True
        return self.resources.matches(resource, ctx) is not self.not_resource

    def matches_conditions(self, ctx: Context) -> bool:
        # hot path: a plain loop beats all() over a generator
        for condition in self.conditions:  # noqa: SIM110
            if not condition.holds(ctx):
                return False
        return True


class Policy:
    """A parsed policy document with its label (e.g. an ARN or "identity[0]")."""

    __slots__ = (
        "_buckets",
        "_by_action",
        "_index",
        "_other",
        "_wild",
        "document",
        "id",
        "label",
        "policy_type",
        "statements",
        "version",
    )

    def __init__(
        self,
        label: str,
        version: str,
        *,
        statements: tuple[Statement, ...],
        document: Mapping[str, Any],
        policy_id: str | None = None,
        policy_type: PolicyType | None = None,
    ) -> None:
        self.label = label
        self.version = version
        self.statements = statements
        self.document = document
        self.id = policy_id
        self.policy_type = policy_type
        #: lower-case action named in the policy -> every statement whose Action/NotAction
        #: covers it, in order (built here); any other action can only be covered by a
        #: statement with a wildcard or a NotAction (`_wild`)
        self._index: dict[str, tuple[Statement, ...]] = {}
        for statement in statements:
            if not statement.not_action:
                for name in statement.actions.exact:
                    if name not in self._index:
                        self._index[name] = tuple(s for s in statements if s.matches_action(name))
        self._wild = tuple(s for s in statements if s.not_action or s.actions.wild)
        #: an action outside the index, `service:name`, is covered by the `_wild`
        #: statements that cover its service ALWAYS, and by those that DEPEND on the name
        #: if they match it: per service named in the policy, and `_other` for the rest,
        #: (the statements when none DEPENDS, else None; (statement, always) pairs)
        services: set[str] = set()
        for statement in self._wild:
            m = statement.actions
            services |= m.services | m.regex_services
            if statement.not_action:
                services |= m.exact_services
        self._buckets = {service: self._bucket(service) for service in services}
        self._other = self._bucket(None)
        #: lower-case action not in the index -> its statements (memo)
        self._by_action: dict[str, tuple[Statement, ...]] = {}

    def _bucket(
        self, service: str | None
    ) -> tuple[tuple[Statement, ...] | None, tuple[tuple[Statement, bool], ...]]:
        """The `_wild` statements that may cover `service:...` outside the index (None:
        a service the policy does not name)."""
        pairs: list[tuple[Statement, bool]] = []
        for statement in self._wild:
            m = statement.actions
            covers = m.covers(service)
            if statement.not_action:
                if covers == NEVER and service is not None and service in m.exact_services:
                    covers = DEPENDS
                covers = {ALWAYS: NEVER, NEVER: ALWAYS}.get(covers, DEPENDS)
            if covers != NEVER:
                pairs.append((statement, covers == ALWAYS))
        sure = tuple(s for s, _ in pairs) if all(always for _, always in pairs) else None
        return sure, tuple(pairs)

    def candidates(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction matches `action` (lower case)."""
        found = self._index.get(action)
        if found is not None:
            return found
        service, colon, _ = action.partition(":")
        if colon:
            sure, pairs = self._buckets.get(service, self._other)
            if sure is not None:
                return sure
        else:  # not `service:name`: every statement with a wildcard is checked
            pairs = tuple((s, False) for s in self._wild)
        if not memo.enabled():
            return tuple(s for s, always in pairs if always or s.matches_action(action))
        found = self._by_action.get(action)
        if found is None:
            found = tuple(s for s, always in pairs if always or s.matches_action(action))
            if len(self._by_action) >= _MEMO_LIMIT:
                self._by_action.clear()
            self._by_action[action] = found
        return found

    def __repr__(self) -> str:
        return f"Policy({self.label!r}, {len(self.statements)} statements)"


def _strings(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(f"{field} must not be empty")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{field} must be a string or a list of non-empty strings")
    return list(items)


def _statement(raw: Any, index: int, variables: bool, policy_type: PolicyType | None) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {index}: must be an object")
    sid = raw.get("Sid")
    where = f"statement {index}" + (f" (Sid {sid!r})" if isinstance(sid, str) else "")
    field = ""
    try:
        for name in raw:
            if name not in _STATEMENT_FIELDS:
                field = str(name)
                raise ValueError("unknown element")
        field = "Sid"
        if sid is not None and not isinstance(sid, str):
            raise ValueError("must be a string")
        field = "Effect"
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(
                "missing" if effect is None else f'must be "Allow" or "Deny", not {effect!r}'
            )
        field = "Action"
        if ("Action" in raw) == ("NotAction" in raw):
            raise ValueError("exactly one of Action and NotAction is required")
        field = "Action" if "Action" in raw else "NotAction"
        actions = _strings(raw[field], field)
        for action in actions:
            if action != "*" and not _ACTION.match(action):
                raise ValueError(f'{action!r} is not "*" or "service:action"')
        not_action = field == "NotAction"
        field = "Resource"
        if "Resource" in raw and "NotResource" in raw:
            raise ValueError("Resource and NotResource cannot both be present")
        resources: ResourceMatcher | None = None
        not_resource = False
        if "Resource" in raw or "NotResource" in raw:
            field = "Resource" if "Resource" in raw else "NotResource"
            resources = ResourceMatcher(_strings(raw[field], field), variables)
            not_resource = field == "NotResource"
        elif policy_type in _NO_PRINCIPAL:
            raise ValueError("missing: one of Resource and NotResource is required")
        field = "Principal"
        if "Principal" in raw and "NotPrincipal" in raw:
            raise ValueError("Principal and NotPrincipal cannot both be present")
        principal: PrincipalSpec | None = None
        not_principal = False
        if "Principal" in raw or "NotPrincipal" in raw:
            field = "Principal" if "Principal" in raw else "NotPrincipal"
            if policy_type in _NO_PRINCIPAL or policy_type is PolicyType.SCP:
                raise ValueError(f"not allowed in a {policy_type} policy")
            if field == "NotPrincipal" and policy_type is PolicyType.RCP:
                raise ValueError("not allowed in a resource control policy")
            principal = parse_principal(raw[field])
            not_principal = field == "NotPrincipal"
        elif policy_type is PolicyType.RESOURCE:
            raise ValueError("missing: a resource-based policy needs Principal or NotPrincipal")
        field = "Condition"
        conditions: tuple[Condition, ...] = ()
        if "Condition" in raw:
            conditions = parse_block(raw["Condition"], variables)
    except (ValueError, ConditionError) as exc:
        raise PolicyError(f"{where}: {field}: {exc}") from None
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=ActionMatcher(actions),
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        conditions=conditions,
        raw=raw,
    )


def parse_policy(
    document: Mapping[str, Any] | str,
    label: str = "policy",
    policy_type: PolicyType | None = None,
) -> Policy:
    """Parse and precompile a policy document.

    With `policy_type`, the type's own rules are enforced too (identity policies may not
    name a Principal; a resource-based policy must). Raises `PolicyError`.
    """
    try:
        return _parse(document, label, policy_type)
    except PolicyError as exc:
        raise PolicyError(f"{label}: {exc}") from None


def _parse(document: Mapping[str, Any] | str, label: str, policy_type: PolicyType | None) -> Policy:
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as exc:
            raise PolicyError(f"not valid JSON ({exc})") from None
    if not isinstance(document, Mapping):
        raise PolicyError("a policy document must be a JSON object")
    for name in document:
        if name not in _TOP_LEVEL:
            raise PolicyError(f"unknown top-level element {name!r}")
    version = document.get("Version", VERSION_2008)
    if version not in (VERSION_2012, VERSION_2008):
        raise PolicyError(f'Version must be "2012-10-17" or "2008-10-17", not {version!r}')
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("Id must be a string")
    if "Statement" not in document:
        raise PolicyError("missing Statement")
    raw = document["Statement"]
    raw_statements = raw if isinstance(raw, list) else [raw]
    variables = version == VERSION_2012
    statements = tuple(
        _statement(item, index, variables, policy_type) for index, item in enumerate(raw_statements)
    )
    return Policy(
        label,
        version,
        statements=statements,
        document=document,
        policy_id=policy_id,
        policy_type=policy_type,
    )


@dataclass
class PolicySet:
    """The policies that bear on one request (CONTRACTS §1 `policies`).

    `scp` / `rcp`: the organization's levels from the root down to the account, each the
    list of policies attached there; None when none apply (standalone or management
    account). SCPs apply to the principal's account, RCPs to the resource's account.
    """

    identity: list[Policy] = _field(default_factory=list)
    resource: Policy | None = None
    boundary: Policy | None = None
    session: Policy | None = None
    scp: list[list[Policy]] | None = None
    rcp: list[list[Policy]] | None = None
