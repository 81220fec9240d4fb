"""Principals: who made a request (`Caller`) and what a Principal element names (`PrincipalSpec`).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_ACCOUNT = re.compile(r"^\d{12}$")
#: web identity providers: named under Federated, not AWS service principals
_IDENTITY_PROVIDERS = frozenset(
    {
        "cognito-identity.amazonaws.com",
        "www.amazon.com",
        "graph.facebook.com",
        "accounts.google.com",
    }
)
_ARN = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$", re.DOTALL)

USER = "user"
ROLE = "role"
ASSUMED_ROLE = "assumed-role"
FEDERATED_USER = "federated-user"
ROOT = "root"
SERVICE = "service"
ANONYMOUS = "anonymous"
OTHER = "other"

#: principal kinds whose requests are evaluated against identity-based policies
IAM_KINDS = frozenset({USER, ROLE, ASSUMED_ROLE, FEDERATED_USER, ROOT})

#: how a Principal element matched the caller, weakest first
NO_MATCH = 0
ACCOUNT_MATCH = 1  # the caller's account is named (root ARN or account id)
PARENT_MATCH = 2  # a session's role (or a federated user's IAM user) is named
DIRECT_MATCH = 3  # the caller itself is named, or "*"


class Caller:
    """The principal that made a request, parsed once (cached by ARN)."""

    __slots__ = (
        "account",
        "arn",
        "kind",
        "name",
        "parent_arn",
        "parent_key",
        "partition",
        "self_key",
        "service_linked",
        "session",
    )

    def __init__(self, arn: str, kind: str, account: str | None = None) -> None:
        self.arn = arn
        self.kind = kind
        self.account = account
        self.partition = "aws"
        self.name: str | None = None
        self.session: str | None = None
        #: (account, "user"|"role", name): how a policy's ARN for this caller is compared
        self.self_key: tuple[str, str, str] | None = None
        #: the role of a session, or the IAM user of a federated-user session
        self.parent_key: tuple[str, str, str] | None = None
        self.parent_arn: str | None = None
        self.service_linked = False

    @property
    def principal_arn(self) -> str | None:
        """`aws:PrincipalArn`: the role ARN for a session, else the caller's ARN."""
        if self.kind == ASSUMED_ROLE:
            return self.parent_arn
        if self.kind in IAM_KINDS:
            return self.arn
        return None


@lru_cache(maxsize=4096)
def parse_caller(text: str) -> Caller:
    """Classify a request principal: IAM ARN, account id, service principal, `*`, other."""
    value = text.strip()
    if value == "*":
        return Caller(value, ANONYMOUS)
    if _ACCOUNT.match(value):
        caller = Caller(f"arn:aws:iam::{value}:root", ROOT, value)
        return caller
    arn = _ARN.match(value)
    if arn is None:
        if value.lower() in _IDENTITY_PROVIDERS:
            return Caller(value, OTHER)
        if "." in value and "/" not in value and " " not in value:
            return Caller(value, SERVICE)
        return Caller(value, OTHER)
    partition, service, _region, account, resource = arn.groups()
    kind_name, _, rest = resource.partition("/")
    caller = Caller(value, OTHER, account or None)
    caller.partition = partition
    if service == "iam" and resource == "root":
        caller.kind = ROOT
    elif service == "iam" and kind_name == "user" and rest:
        caller.kind = USER
        caller.name = rest.rsplit("/", 1)[-1]
        caller.self_key = (account, USER, caller.name)
    elif service == "iam" and kind_name == "role" and rest:
        caller.kind = ROLE
        caller.name = rest.rsplit("/", 1)[-1]
        caller.self_key = (account, ROLE, caller.name)
        caller.service_linked = rest.startswith("aws-service-role/")
    elif service == "sts" and kind_name == "assumed-role" and "/" in rest:
        caller.kind = ASSUMED_ROLE
        role, _, session = rest.partition("/")
        caller.name = role
        caller.session = session
        caller.parent_key = (account, ROLE, role)
        caller.parent_arn = f"arn:{partition}:iam::{account}:role/{role}"
        caller.service_linked = role.startswith("AWSServiceRoleFor")
    elif service == "sts" and kind_name == "federated-user" and rest:
        caller.kind = FEDERATED_USER
        caller.name = rest
        caller.parent_key = (account, USER, rest)
        caller.parent_arn = f"arn:{partition}:iam::{account}:user/{rest}"
    if caller.kind == OTHER:
        caller.account = None
    return caller


def _arn_key(value: str) -> tuple[str, str, str] | None:
    """(account, "user"|"role", name) for an IAM user/role ARN (path ignored)."""
    arn = _ARN.match(value)
    if arn is None or arn.group(2) != "iam":
        return None
    kind_name, _, rest = arn.group(5).partition("/")
    if kind_name in (USER, ROLE) and rest:
        return (arn.group(4), kind_name, rest.rsplit("/", 1)[-1])
    return None


class PrincipalSpec:
    """A compiled Principal / NotPrincipal element."""

    __slots__ = ("accounts", "arns", "keys", "others", "wildcard")

    def __init__(self) -> None:
        self.wildcard = False
        self.accounts: frozenset[str] = frozenset()
        self.arns: frozenset[str] = frozenset()
        self.keys: frozenset[tuple[str, str, str]] = frozenset()
        #: Service, Federated and CanonicalUser values (services compared in lower case)
        self.others: frozenset[str] = frozenset()

    def match(self, caller: Caller) -> int:
        """How this element names the caller (NO_MATCH ... DIRECT_MATCH)."""
        if self.wildcard:
            return DIRECT_MATCH
        kind = caller.kind
        if kind not in IAM_KINDS:
            if kind == ANONYMOUS:
                return NO_MATCH
            value = caller.arn
            if value in self.others or value.lower() in self.others or value in self.arns:
                return DIRECT_MATCH
            return NO_MATCH
        if caller.arn in self.arns:
            return DIRECT_MATCH
        if kind == ROOT:
            return DIRECT_MATCH if caller.account in self.accounts else NO_MATCH
        if caller.self_key is not None and caller.self_key in self.keys:
            return DIRECT_MATCH
        if caller.parent_key is not None and caller.parent_key in self.keys:
            return PARENT_MATCH
        if caller.account in self.accounts:
            return ACCOUNT_MATCH
        return NO_MATCH

    def excludes(self, caller: Caller) -> bool:
        """NotPrincipal: is the caller exempt? Its account must be listed, and for a user the
        user; for an assumed-role session the role and the session itself (AWS checks the
        account, then the role, then the session, and a Deny applies at any unlisted step)."""
        if self.wildcard:
            return True
        kind = caller.kind
        if kind not in IAM_KINDS:
            return self.match(caller) == DIRECT_MATCH
        if caller.account not in self.accounts:
            return False
        if kind == ROOT:
            return True
        if kind == ASSUMED_ROLE:
            # AWS checks the account, then the role, then the session: all three listed
            return caller.parent_key in self.keys and caller.arn in self.arns
        return self.match(caller) >= PARENT_MATCH


_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")


def parse_principal(raw: Any) -> PrincipalSpec:
    """Compile a Principal element; raises ValueError with a reason."""
    spec = PrincipalSpec()
    if raw == "*":
        spec.wildcard = True
        return spec
    if not isinstance(raw, Mapping):
        raise ValueError('must be "*" or an object with AWS, Service, Federated or CanonicalUser')
    if not raw:
        raise ValueError("must name at least one principal")
    accounts: set[str] = set()
    arns: set[str] = set()
    keys: set[tuple[str, str, str]] = set()
    others: set[str] = set()
    for name, value in raw.items():
        if name not in _PRINCIPAL_KEYS:
            raise ValueError(f"unknown principal type {name!r}")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValueError(f"{name} must name at least one principal")
        for given in values:
            if not isinstance(given, str) or not given.strip():
                raise ValueError(f"{name} values must be non-empty strings")
            item = given.strip()
            if name == "AWS":
                if item == "*":
                    spec.wildcard = True
                elif _ACCOUNT.match(item):
                    accounts.add(item)
                else:
                    arn = _ARN.match(item)
                    if arn is not None and arn.group(2) == "iam" and arn.group(5) == "root":
                        accounts.add(arn.group(4))
                    else:
                        arns.add(item)
                        key = _arn_key(item)
                        if key is not None:
                            keys.add(key)
            elif name == "Service":
                others.add(item.lower())
            else:
                others.add(item)
    spec.accounts = frozenset(accounts)
    spec.arns = frozenset(arns)
    spec.keys = frozenset(keys)
    spec.others = frozenset(others)
    return spec
