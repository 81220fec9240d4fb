"""One-line summaries of CloudTrail events and the timeline (CONTRACTS §2 `events`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.report import Event, utc_iso
from bot.snapshot import CloudTrailEvent, Snapshot
from bot.timeline.events import (
    Scope,
    action_of,
    actor_label,
    as_dict,
    as_list,
    function_name_of,
    is_denial,
    is_function_session,
    normalise_name,
    params_of,
    relevant_events,
    service_prefix,
    session_name,
    text_of,
)


def earlier_events(
    event: CloudTrailEvent, history: list[CloudTrailEvent], names: Iterable[str]
) -> list[CloudTrailEvent]:
    """Successful events named `names` before `event`, newest first."""
    wanted = set(names)
    return [
        e
        for e in sorted(history, key=lambda e: e.time, reverse=True)
        if e.time < event.time and not e.error_code and normalise_name(e.name) in wanted
    ]


def _previous_role(event: CloudTrailEvent, history: list[CloudTrailEvent]) -> str | None:
    fn = function_name_of(params_of(event).get("functionname"))
    for earlier in earlier_events(
        event, history, ("UpdateFunctionConfiguration", "CreateFunction")
    ):
        params = params_of(earlier)
        if function_name_of(params.get("functionname")) == fn and params.get("role"):
            return str(params["role"])
    return None


def added_statement(
    event: CloudTrailEvent, history: list[CloudTrailEvent]
) -> dict[str, Any] | None:
    """The AddPermission parameters that created the statement a RemovePermission removes."""
    params = params_of(event)
    sid = params.get("statementid")
    fn = function_name_of(params.get("functionname"))
    for earlier in earlier_events(event, history, ("AddPermission",)):
        added = params_of(earlier)
        if added.get("statementid") == sid and function_name_of(added.get("functionname")) == fn:
            return added
    return None


def _config_changes(event: CloudTrailEvent, history: list[CloudTrailEvent]) -> list[str]:
    params = params_of(event)
    parts: list[str] = []
    if params.get("role"):
        before = _previous_role(event, history)
        if before and before != params["role"]:
            parts.append(f"changed execution role from {before} to {params['role']}")
        else:
            parts.append(f"set execution role to {params['role']}")
    if "vpcconfig" in params:
        vpc = as_dict(params.get("vpcconfig"))
        subnets = as_list(vpc.get("subnetIds") or vpc.get("subnetids"))
        groups = as_list(vpc.get("securityGroupIds") or vpc.get("securitygroupids"))
        if subnets:
            parts.append(
                f"changed VPC config to subnets {', '.join(map(str, subnets))}"
                + (f" and security groups {', '.join(map(str, groups))}" if groups else "")
            )
        else:
            parts.append("removed the VPC config")
    if "kmskeyarn" in params:
        key = params.get("kmskeyarn")
        parts.append(
            f"changed environment KMS key to {key}" if key else "removed the environment KMS key"
        )
    if "layers" in params:
        layers = as_list(params.get("layers"))
        parts.append(
            f"changed layers to {', '.join(map(str, layers))}" if layers else "removed all layers"
        )
    if "environment" in params:
        parts.append("changed environment variables")
    if "filesystemconfigs" in params:
        parts.append("changed file systems")
    if "deadletterconfig" in params:
        target = as_dict(params.get("deadletterconfig")).get("targetArn")
        parts.append(
            f"changed dead-letter target to {target}" if target else "removed dead-letter target"
        )
    return parts


def destination_targets(config: Any) -> list[tuple[str, str]]:
    """[("on-failure", arn), ("on-success", arn)] of a Lambda DestinationConfig parameter
    (CloudTrail writes `onFailure`/`destination`; the API `OnFailure`/`Destination`)."""
    out: list[tuple[str, str]] = []
    lowered = {str(k).lower(): v for k, v in as_dict(config).items()}
    for key, label in (("onfailure", "on-failure"), ("onsuccess", "on-success")):
        target = {str(k).lower(): v for k, v in as_dict(lowered.get(key)).items()}
        arn = target.get("destination")
        if isinstance(arn, str) and arn:
            out.append((label, arn))
    return out


def _lambda_summary(name: str, event: CloudTrailEvent, history: list[CloudTrailEvent]) -> str:
    p = params_of(event)
    qualifier = f" (qualifier {p['qualifier']})" if p.get("qualifier") else ""
    if name == "RemovePermission":
        added = added_statement(event, history)
        action = str((added or {}).get("action") or "")
        if action and not action.lower().startswith("lambda:invokefunction"):
            return f"removed permission {p.get('statementid')} ({action}){qualifier}"
        return f"removed invoke permission {p.get('statementid')}{qualifier}"
    if name == "AddPermission":
        text = f"added permission {p.get('statementid')}: {text_of(p.get('principal'))} may "
        text += text_of(p.get("action"))
        if p.get("sourcearn"):
            text += f" from {p['sourcearn']}"
        if p.get("functionurlauthtype"):
            text += f" (function URL auth {p['functionurlauthtype']})"
        return text + qualifier
    if name == "UpdateFunctionConfiguration":
        parts = _config_changes(event, history)
        return "; ".join(parts) if parts else "updated function configuration"
    if name == "CreateFunction":
        return f"created function with execution role {text_of(p.get('role'))}".rstrip()
    if name == "DeleteFunction":
        return f"deleted function{qualifier}"
    if name == "UpdateFunctionCode":
        return "updated function code"
    if name.endswith("FunctionUrlConfig"):
        verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[name[:6]]
        auth = f" (auth type {p['authtype']})" if p.get("authtype") else ""
        return f"{verb} function URL{auth}{qualifier}"
    if name == "CreateEventSourceMapping":
        return f"created event source mapping from {text_of(p.get('eventsourcearn'))}"
    if name == "UpdateEventSourceMapping":
        targets = destination_targets(p.get("destinationconfig"))
        if targets:
            return f"updated event source mapping {text_of(p.get('uuid'))}: " + ", ".join(
                f"{when} destination {arn}" for when, arn in targets
            )
        enabled = p.get("enabled")
        state = (
            {True: " (enabled)", False: " (disabled)"}.get(enabled, "")
            if isinstance(enabled, bool)
            else ""
        )
        return f"updated event source mapping {text_of(p.get('uuid'))}{state}"
    if name == "DeleteEventSourceMapping":
        return f"deleted event source mapping {text_of(p.get('uuid'))}"
    if name.endswith("Alias"):
        verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[name[:6]]
        return f"{verb} alias {text_of(p.get('name'))}"
    if name.endswith("FunctionEventInvokeConfig"):
        if name.startswith("Delete"):
            return "deleted asynchronous invocation configuration (destinations)"
        targets = destination_targets(p.get("destinationconfig"))
        if targets:
            return "set asynchronous invocation destinations: " + ", ".join(
                f"{when} {arn}" for when, arn in targets
            )
        return "changed asynchronous invocation configuration (destinations)"
    if name == "TagResource":
        return "tagged function: " + ", ".join(sorted(map(str, as_dict(p.get("tags")))))
    if name == "UntagResource":
        return "untagged function: " + ", ".join(map(str, as_list(p.get("tagkeys"))))
    return name


def recreated_role(
    event: CloudTrailEvent, history: list[CloudTrailEvent]
) -> CloudTrailEvent | None:
    """For a CreateRole: the earlier DeleteRole of the same role name, if any."""
    if normalise_name(event.name) != "CreateRole":
        return None
    role = params_of(event).get("rolename")
    for earlier in earlier_events(event, history, ("DeleteRole",)):
        if params_of(earlier).get("rolename") == role:
            return earlier
    return None


def _iam_summary(name: str, event: CloudTrailEvent, history: list[CloudTrailEvent]) -> str:
    deleted = recreated_role(event, history)
    if deleted is not None:
        role = text_of(params_of(event).get("rolename"))
        return (
            f"re-created role {role} (deleted at {utc_iso(deleted.time)}): policies that named "
            "the old role no longer apply to the new one"
        )
    p = params_of(event)
    role = text_of(p.get("rolename"))
    policy = text_of(p.get("policyarn"))
    texts: dict[str, Callable[[], str]] = {
        "AttachRolePolicy": lambda: f"attached policy {policy} to {role}",
        "DetachRolePolicy": lambda: f"detached policy {policy} from {role}",
        "PutRolePolicy": lambda: f"put inline policy {text_of(p.get('policyname'))} on {role}",
        "DeleteRolePolicy": lambda: (
            f"deleted inline policy {text_of(p.get('policyname'))} from {role}"
        ),
        "PutRolePermissionsBoundary": lambda: (
            f"set permissions boundary {text_of(p.get('permissionsboundary'))} on {role}"
        ),
        "DeleteRolePermissionsBoundary": lambda: f"removed permissions boundary from {role}",
        "UpdateAssumeRolePolicy": lambda: f"changed trust policy of {role}",
        "CreateRole": lambda: f"created role {role}",
        "DeleteRole": lambda: f"deleted role {role}",
        "UpdateRole": lambda: f"updated role {role}",
        "TagRole": lambda: f"tagged role {role}",
        "UntagRole": lambda: f"untagged role {role}",
        "CreatePolicyVersion": lambda: (
            f"created a new version of {policy}"
            + (" and set it as default" if p.get("setasdefault") else "")
        ),
        "SetDefaultPolicyVersion": lambda: (
            f"set default version of {policy} to {text_of(p.get('versionid'))}"
        ),
        "DeletePolicyVersion": lambda: f"deleted version {text_of(p.get('versionid'))} of {policy}",
        "DeletePolicy": lambda: f"deleted policy {policy}",
    }
    return texts[name]() if name in texts else name


def _kms_summary(name: str, event: CloudTrailEvent) -> str:
    p = params_of(event)
    key = text_of(p.get("keyid"))
    texts = {
        "PutKeyPolicy": f"changed key policy of {key}",
        "CreateGrant": f"created grant on {key} for {text_of(p.get('granteeprincipal'))}",
        "RevokeGrant": f"revoked grant {text_of(p.get('grantid'))} on {key}",
        "RetireGrant": f"retired grant {text_of(p.get('grantid'))}".rstrip()
        + (f" on {key}" if key else ""),
        "DisableKey": f"disabled key {key}",
        "EnableKey": f"enabled key {key}",
        "ScheduleKeyDeletion": f"scheduled deletion of key {key}",
        "CancelKeyDeletion": f"cancelled deletion of key {key}",
    }
    return texts.get(name, name)


_ON_RESOURCE = re.compile(r"on resource:? (?P<resource>[^\s]+?)(?:\.? because|\.?$|\s)")


def denied_resource(event: CloudTrailEvent) -> str | None:
    """The resource a denied call was for: from the error message, else the event's ARNs."""
    match = _ON_RESOURCE.search(event.error_message or "")
    if match:
        return match.group("resource")
    for resource in event.resources:
        if resource.startswith("arn:"):
            return resource
    return event.resources[0] if event.resources else None


def _denial_summary(event: CloudTrailEvent, snapshot: Snapshot) -> str:
    action = action_of(event)
    resource = denied_resource(event)
    on = f" on {resource}" if resource else ""
    if is_function_session(event, snapshot):
        role = snapshot.function.role_arn.rsplit("/", 1)[-1]
        who = f"{role}/{session_name(event.actor)}"
    else:
        who = actor_label(event.actor)
    code = (event.error_code or "").lower()
    if code.endswith("invalidparametervalueexception") and event.error_message:
        return f"{action} failed: {event.error_message}"[:300]
    return f"{action}{on} denied to {who}"


def _ec2_summary(name: str, event: CloudTrailEvent) -> str:
    p = params_of(event)
    group = text_of(p.get("groupid"))
    if not group:
        for value in p.values():
            if isinstance(value, dict):
                inner = {str(k).lower(): v for k, v in value.items()}
                group = group or text_of(inner.get("groupid"))
    subnet = text_of(p.get("subnetid"))
    texts = {
        "DeleteSubnet": f"deleted subnet {subnet}",
        "ModifySubnetAttribute": f"changed attributes of subnet {subnet}",
        "DeleteSecurityGroup": f"deleted security group {group}",
        "RevokeSecurityGroupEgress": f"removed outbound rules of security group {group}",
        "RevokeSecurityGroupIngress": f"removed inbound rules of security group {group}",
        "AuthorizeSecurityGroupEgress": f"added outbound rules to security group {group}",
        "AuthorizeSecurityGroupIngress": f"added inbound rules to security group {group}",
        "ModifySecurityGroupRules": f"changed rules of security group {group}",
    }
    return texts.get(name, action_of(event))


def _org_summary(name: str, event: CloudTrailEvent) -> str:
    p = params_of(event)
    policy = text_of(p.get("policyid"))
    target = text_of(p.get("targetid"))
    texts = {
        "UpdatePolicy": f"changed organization policy {policy}",
        "AttachPolicy": f"attached organization policy {policy} to {target}",
        "DetachPolicy": f"detached organization policy {policy} from {target}",
        "DeletePolicy": f"deleted organization policy {policy}",
        "DisablePolicyType": (
            f"disabled policy type {text_of(p.get('policytype'))} in {text_of(p.get('rootid'))}"
        ),
    }
    return texts.get(name, action_of(event))


def _neighbour_summary(name: str, event: CloudTrailEvent, arn: str) -> str:
    p = params_of(event)
    if name.startswith("PutBucketNotification"):
        return f"changed the event notifications of {arn}"
    if name == "SetQueueAttributes":
        attributes = p.get("attributes") or {}
        keys = sorted(attributes) if isinstance(attributes, dict) else []
        if "Policy" in keys:
            return f"changed the queue policy of {arn}"
        return f"changed {', '.join(keys) or 'attributes'} of {arn}"
    if name in ("AddPermission", "RemovePermission"):
        verb = "added" if name == "AddPermission" else "removed"
        return f"{verb} permission {text_of(p.get('label'))} on {arn}".replace("  ", " ")
    if name == "SetTopicAttributes":
        return f"changed {text_of(p.get('attributename')) or 'attributes'} of {arn}"
    if name.startswith("Delete"):
        return f"deleted the resource policy of {arn}"
    return f"changed the resource policy of {arn}"


def summarise(event: CloudTrailEvent, snapshot: Snapshot) -> str:
    """One line saying what the event did."""
    name = normalise_name(event.name)
    service = service_prefix(event.source)
    history = snapshot.cloudtrail or []
    if is_denial(event):
        return _denial_summary(event, snapshot)
    if service == "lambda":
        text = _lambda_summary(name, event, history)
    elif service == "iam":
        text = _iam_summary(name, event, history)
    elif service == "kms":
        text = _kms_summary(name, event)
    elif service == "ec2":
        text = _ec2_summary(name, event)
    elif service == "organizations":
        text = _org_summary(name, event)
    else:
        neighbour = Scope.of(snapshot).neighbour_of(event)
        text = _neighbour_summary(name, event, neighbour) if neighbour else action_of(event)
    if event.error_code:
        text = f"attempt failed ({event.error_code}): {text}"
    return text


def to_event(event: CloudTrailEvent, snapshot: Snapshot) -> Event:
    return Event(
        time=event.time,
        event=normalise_name(event.name),
        actor=event.actor,
        source_ip=event.source_ip,
        error=event.error_code,
        summary=summarise(event, snapshot),
    )


def timeline(snapshot: Snapshot) -> list[Event]:
    """CONTRACTS §2 `events`: relevant CloudTrail activity in the window, newest first.

    Repeats of the same denied call by the function (same action, resource and error) are
    one entry, the newest, whose summary says how many there were since when.
    """
    events = relevant_events(snapshot)
    repeats: dict[tuple[str, str, str, str], list[CloudTrailEvent]] = {}
    out: list[tuple[CloudTrailEvent, list[CloudTrailEvent]]] = []
    for event in events:  # newest first
        if is_denial(event) and is_function_session(event, snapshot):
            key = (
                action_of(event),
                denied_resource(event) or "",
                event.error_code or "",
                "code" if session_name(event.actor) == snapshot.function.name else "lambda",
            )
            if key in repeats:
                repeats[key].append(event)
                continue
            repeats[key] = [event]
            out.append((event, repeats[key]))
        else:
            out.append((event, [event]))
    result: list[Event] = []
    for newest, group in out:
        item = to_event(newest, snapshot)
        if len(group) > 1:
            item.summary += f" ({len(group)} times since {utc_iso(group[-1].time)})"
        result.append(item)
    return result
