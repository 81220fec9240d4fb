"""The request context: caller's keys normalised, derived global keys filled in.

Keys are stored in lower case (context key names are case-insensitive) with a tuple of
values. Keys AWS always sets and that can be derived from the request are added when the
caller did not give them: aws:PrincipalArn (the role ARN for an assumed-role session),
aws:PrincipalAccount, aws:PrincipalType, aws:username (IAM users), aws:userid (root,
federated-user sessions and anonymous callers), aws:PrincipalIsAWSService, aws:PrincipalServiceName,
aws:ResourceAccount, aws:CurrentTime and aws:EpochTime.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from bot.iam.principal import (
    ANONYMOUS,
    ASSUMED_ROLE,
    FEDERATED_USER,
    IAM_KINDS,
    ROLE,
    ROOT,
    SERVICE,
    USER,
    Caller,
)
from bot.iam.variables import Context

_PRINCIPAL_TYPE = {
    USER: "User",
    ROLE: "AssumedRole",
    ASSUMED_ROLE: "AssumedRole",
    FEDERATED_USER: "FederatedUser",
    ROOT: "Account",
    ANONYMOUS: "Anonymous",
}

#: [second, ("aws:currenttime" value,), ("aws:epochtime" value,)] for the current second
_clock: list[Any] = [-1, ("",), ("",)]


def _now() -> tuple[tuple[str], tuple[str]]:
    second = int(time.time())
    if _clock[0] != second:
        moment = datetime.fromtimestamp(second, UTC)
        _clock[:] = [second, (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),), (str(second),)]
    return _clock[1], _clock[2]


def _value(value: Any) -> tuple[str, ...] | None:
    """A context value as a tuple of strings; None for a value of no usable type."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int | float):
        return (str(value),)
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            one = _value(item)
            if one is None or len(one) != 1:
                return None
            out.append(one[0])
        return tuple(out)
    return None


@lru_cache(maxsize=4096)
def _derived(caller: Caller) -> dict[str, tuple[str, ...]]:
    """The keys derivable from the caller alone (computed once per caller)."""
    out: dict[str, tuple[str, ...]] = {}
    kind = caller.kind
    if kind in IAM_KINDS:
        principal_arn = caller.principal_arn
        if principal_arn is not None:
            out["aws:principalarn"] = (principal_arn,)
        if caller.account:
            out["aws:principalaccount"] = (caller.account,)
        if kind == USER and caller.name:
            out["aws:username"] = (caller.name,)
        if kind == ROOT and caller.account:
            out["aws:userid"] = (caller.account,)
        if kind == FEDERATED_USER and caller.account and caller.name:
            # GetFederationToken sessions: "account:caller-specified-name"
            out["aws:userid"] = (f"{caller.account}:{caller.name}",)
    elif kind == ANONYMOUS:
        out["aws:userid"] = ("anonymous",)
    principal_type = _PRINCIPAL_TYPE.get(kind)
    if principal_type is not None:
        out["aws:principaltype"] = (principal_type,)
    out["aws:principalisawsservice"] = ("true" if kind == SERVICE else "false",)
    if kind == SERVICE:
        out["aws:principalservicename"] = (caller.arn,)
    return out


def base_context(caller: Caller, resource_account: str | None) -> Context:
    """The keys derived from the caller and the resource's account (no clock, no context)."""
    ctx: Context = _derived(caller).copy()
    if resource_account:
        ctx["aws:resourceaccount"] = (resource_account,)
    return ctx


def request_context(base: Context, given: Mapping[str, Any]) -> Context:
    """The prepared context: `base` (see `base_context`), the clock, the caller's on top."""
    ctx = base.copy()
    ctx["aws:currenttime"], ctx["aws:epochtime"] = _now()
    for key, value in given.items():
        kind = type(value)
        if kind is str:
            ctx[key.lower()] = (value,)
            continue
        if kind is list:
            for item in value:
                if type(item) is not str:
                    break
            else:  # a list of strings, as every Request holds
                ctx[key.lower()] = tuple(value)
                continue
        values = _value(value)
        if values is not None:
            ctx[key.lower()] = values
    return ctx


def build_context(
    given: Mapping[str, Any], caller: Caller, resource_account: str | None
) -> Context:
    """The prepared context for one request: derived keys, then the caller's on top."""
    return request_context(base_context(caller, resource_account), given)


class Reader:
    """Builds only the part of request contexts that a set of keys reads.

    `read(given)` equals `request_context(base, given)` restricted to `keys`. Where each
    key of a given context lands is kept per sequence of key names (contexts of one
    request shape mostly share it), so names are lower-cased once per sequence.
    """

    __slots__ = ("base", "clock", "epoch", "keys", "positions", "timed")

    def __init__(self, base: Context, keys: frozenset[str]) -> None:
        self.keys = keys
        self.base = {key: value for key, value in base.items() if key in keys}
        self.clock = "aws:currenttime" in keys
        self.epoch = "aws:epochtime" in keys
        self.timed = self.clock or self.epoch
        #: given key names, in order -> (name, lower-case name) of those read
        self.positions: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}

    def read(self, given: Mapping[str, Any]) -> Context:
        ctx = self.base.copy() if self.base else {}
        if self.timed:
            current, epoch = _now()
            if self.clock:
                ctx["aws:currenttime"] = current
            if self.epoch:
                ctx["aws:epochtime"] = epoch
        names = tuple(given)
        positions = self.positions.get(names)
        if positions is None:
            keys = self.keys
            positions = tuple((name, name.lower()) for name in names if name.lower() in keys)
            if len(self.positions) >= _POSITIONS_LIMIT:
                self.positions.clear()
            self.positions[names] = positions
        for name, key in positions:
            value = given[name]
            if type(value) is str:
                ctx[key] = (value,)
                continue
            converted = _value(value)
            if converted is not None:
                ctx[key] = converted
        return ctx


#: key-name sequences kept per Reader
_POSITIONS_LIMIT = 64
