"""The JSON form of requests and policy sets (CONTRACTS §1), parsed with clear errors.

Labels given to the parsed policies: `identity[i]`, `resource`, `boundary`, `session`,
`scp[level][i]`, `rcp[level][i]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.iam.model import PolicyType, Request
from bot.iam.policy import Policy, PolicyError, PolicySet, parse_policy

_POLICY_KEYS = frozenset({"identity", "resource", "boundary", "session", "scp", "rcp"})
_REQUEST_KEYS = frozenset({"principal", "action", "resource", "resource_account", "context"})


class WireError(ValueError):
    """A request or policy set that does not follow CONTRACTS §1."""


def _context_value(key: str, value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            one = _context_value(key, item)
            if isinstance(one, list):
                raise WireError(f"context key {key!r}: nested lists are not allowed")
            out.append(one)
        return out
    raise WireError(
        f"context key {key!r}: a value must be a string or a list of strings, "
        f"not {type(value).__name__}"
    )


def request_from_json(raw: Any) -> Request:
    """A Request from its JSON object; numbers and booleans in context become strings."""
    if not isinstance(raw, Mapping):
        raise WireError('"request" must be an object')
    unknown = sorted(set(raw) - _REQUEST_KEYS)
    if unknown:
        raise WireError(f"request: unknown field {unknown[0]!r}")
    for name in ("principal", "action", "resource"):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise WireError(f"request.{name} must be a non-empty string")
    account = raw.get("resource_account")
    if account is not None and not isinstance(account, str):
        raise WireError("request.resource_account must be a string or null")
    given = raw.get("context")
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise WireError("request.context must be an object")
    context: dict[str, str | list[str]] = {}
    for key, value in given.items():
        if not isinstance(key, str) or not key:
            raise WireError("request.context keys must be non-empty strings")
        if value is None:  # null: the key is absent from the request
            continue
        context[key] = _context_value(key, value)
    return Request.model_construct(
        principal=raw["principal"],
        action=raw["action"],
        resource=raw["resource"],
        resource_account=account or None,
        context=context,
    )


def _one(raw: Any, label: str, ptype: PolicyType) -> Policy:
    if isinstance(raw, str):
        return parse_policy(raw, label, ptype)
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{label}: a policy must be a JSON object")
    return parse_policy(raw, label, ptype)


def _levels(raw: Any, name: str, ptype: PolicyType) -> list[list[Policy]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise WireError(f"policies.{name} must be a list of levels (lists of policies) or null")
    levels: list[list[Policy]] = []
    for i, level in enumerate(raw):
        if isinstance(level, Mapping):
            raise WireError(f"policies.{name}[{i}] must be a list of policies (one list per level)")
        if not isinstance(level, list):
            raise WireError(f"policies.{name}[{i}] must be a list of policies")
        levels.append([_one(p, f"{name}[{i}][{j}]", ptype) for j, p in enumerate(level)])
    return levels


def policy_set_from_json(raw: Any) -> PolicySet:
    """A PolicySet from its JSON object; raises WireError or PolicyError."""
    if raw is None:
        return PolicySet()
    if not isinstance(raw, Mapping):
        raise WireError('"policies" must be an object')
    unknown = sorted(set(raw) - _POLICY_KEYS)
    if unknown:
        raise WireError(f"policies: unknown policy type {unknown[0]!r}")
    identity_raw = raw.get("identity") or []
    if isinstance(identity_raw, Mapping):
        identity_raw = [identity_raw]
    if not isinstance(identity_raw, list):
        raise WireError("policies.identity must be a list of policies")
    identity = [_one(p, f"identity[{i}]", PolicyType.IDENTITY) for i, p in enumerate(identity_raw)]

    def single(name: str, ptype: PolicyType) -> Policy | None:
        value = raw.get(name)
        return None if value is None else _one(value, name, ptype)

    return PolicySet(
        identity=identity,
        resource=single("resource", PolicyType.RESOURCE),
        boundary=single("boundary", PolicyType.BOUNDARY),
        session=single("session", PolicyType.SESSION),
        scp=_levels(raw.get("scp"), "scp", PolicyType.SCP),
        rcp=_levels(raw.get("rcp"), "rcp", PolicyType.RCP),
    )
