"""CloudTrail timeline, correlation with findings, and the denial pattern (pure).

- `timeline(snapshot)`: CONTRACTS §2 `events` — the CloudTrail events in the snapshot's window
  that bear on the function's permissions (denied calls by or to the function and its role,
  changes to the function, its resource policy, its role, the role's policies, its event
  source mappings and its KMS keys), newest first, each with a one-line summary.
- `correlate(findings, snapshot)`: a failing finding with a plausible cause in the timeline
  says so in `detail` ("Likely cause: alice (arn...) removed invoke permission ... at ... from
  ...") and carries the events in `related_events`.
- `pattern(snapshot)` / `denial_span(snapshot)`: whether the function's denials look
  intermittent or continuous, with first/last seen (for the support bundle).

CloudTrail's Lambda event names carry API versions (`RemovePermission20150331v2`); they are
normalised to the plain API name (https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.report import Event, Finding, Status, utc_iso
from bot.snapshot import CloudTrailEvent, Snapshot

PatternKind = Literal["intermittent", "continuous", "unknown"]

_VERSIONED = re.compile(r"^(?P<name>[A-Za-z]+?)20\d{6}(?:v\d+)?$")
#: eventSource prefixes whose IAM service prefix differs
_SERVICE_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "streams.dynamodb": "dynamodb"}
MAX_RELATED = 5

LAMBDA_CHANGES = frozenset(
    {
        "AddPermission",
        "RemovePermission",
        "UpdateFunctionConfiguration",
        "UpdateFunctionCode",
        "CreateFunction",
        "DeleteFunction",
        "CreateFunctionUrlConfig",
        "UpdateFunctionUrlConfig",
        "DeleteFunctionUrlConfig",
        "CreateEventSourceMapping",
        "UpdateEventSourceMapping",
        "DeleteEventSourceMapping",
        "CreateAlias",
        "UpdateAlias",
        "DeleteAlias",
        "PutFunctionEventInvokeConfig",
        "UpdateFunctionEventInvokeConfig",
        "DeleteFunctionEventInvokeConfig",
        "TagResource",
        "UntagResource",
    }
)
IAM_ROLE_CHANGES = frozenset(
    {
        "AttachRolePolicy",
        "DetachRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "UpdateAssumeRolePolicy",
        "CreateRole",
        "DeleteRole",
        "UpdateRole",
        "TagRole",
        "UntagRole",
    }
)
IAM_POLICY_CHANGES = frozenset(
    {"CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion", "DeletePolicy"}
)
KMS_CHANGES = frozenset(
    {
        "PutKeyPolicy",
        "CreateGrant",
        "RevokeGrant",
        "RetireGrant",
        "DisableKey",
        "EnableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
    }
)
#: resource policy changes of the function's neighbours (event sources, destinations,
#: triggers, secrets): (service prefix, event name) -> request parameter naming the resource
NEIGHBOUR_CHANGES = {
    ("sqs", "SetQueueAttributes"): "queueurl",
    ("sqs", "AddPermission"): "queueurl",
    ("sqs", "RemovePermission"): "queueurl",
    ("s3", "PutBucketPolicy"): "bucketname",
    ("s3", "DeleteBucketPolicy"): "bucketname",
    ("sns", "SetTopicAttributes"): "topicarn",
    ("sns", "AddPermission"): "topicarn",
    ("sns", "RemovePermission"): "topicarn",
    ("secretsmanager", "PutResourcePolicy"): "secretid",
    ("secretsmanager", "DeleteResourcePolicy"): "secretid",
    ("kinesis", "PutResourcePolicy"): "resourcearn",
    ("kinesis", "DeleteResourcePolicy"): "resourcearn",
    ("dynamodb", "PutResourcePolicy"): "resourcearn",
    ("dynamodb", "DeleteResourcePolicy"): "resourcearn",
    ("ecr", "SetRepositoryPolicy"): "repositoryname",
    ("ecr", "DeleteRepositoryPolicy"): "repositoryname",
    # the trust policy of a role the function's code assumes
    ("iam", "UpdateAssumeRolePolicy"): "rolename",
}
_DENIAL_MARKERS = ("accessdenied", "unauthorized", "notauthorized", "forbidden")


# -- small helpers ---------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """`RemovePermission20150331v2` → `RemovePermission`; other names unchanged."""
    match = _VERSIONED.match(name)
    return match.group("name") if match else name


def service_prefix(event_source: str) -> str:
    """`dynamodb.amazonaws.com` → `dynamodb` (the IAM action prefix)."""
    base = event_source.removesuffix(".amazonaws.com")
    return _SERVICE_PREFIX.get(base, base)


def action_of(event: CloudTrailEvent) -> str:
    """The IAM action an event records, e.g. `lambda:RemovePermission`."""
    return f"{service_prefix(event.source)}:{normalise_name(event.name)}"


def is_denial(event: CloudTrailEvent) -> bool:
    """AccessDenied, UnauthorizedOperation and friends (and Lambda's own permission errors)."""
    code = (event.error_code or "").lower()
    if any(marker in code for marker in _DENIAL_MARKERS):
        return True
    message = (event.error_message or "").lower()
    return code.endswith("invalidparametervalueexception") and (
        "does not have permission" in message or "not authorized" in message
    )


def session_name(actor: str | None) -> str | None:
    """The session name of an assumed-role ARN (`.../assumed-role/role/alice` → `alice`)."""
    if actor and ":assumed-role/" in actor:
        return actor.rsplit("/", 1)[-1]
    return None


def actor_label(actor: str | None) -> str:
    """Who, in a word: session name, user name, `root`, or the service principal."""
    if not actor:
        return "unknown caller"
    if ":assumed-role/" in actor or ":user/" in actor or ":federated-user/" in actor:
        return actor.rsplit("/", 1)[-1]
    if actor.endswith(":root"):
        return "root"
    return actor


def is_role_session(
    event: CloudTrailEvent, role_arn: str, session_names: Iterable[str] = ()
) -> bool:
    """The event was made by a session of `role_arn` named like one of `session_names`
    (a trailing `*` is a prefix match; none given: any session)."""
    identity = _dict(event.raw.get("userIdentity"))
    issuer = _dict(_dict(identity.get("sessionContext")).get("sessionIssuer")).get("arn")
    actor = event.actor or ""
    role_name = role_arn.rsplit("/", 1)[-1]
    if issuer:
        if issuer != role_arn:
            return False
    elif f":assumed-role/{role_name}/" not in actor:
        return False
    names = list(session_names)
    if not names:
        return True
    session = session_name(actor) or ""
    return any(session.startswith(n[:-1]) if n.endswith("*") else session == n for n in names)


def is_function_session(event: CloudTrailEvent, snapshot: Snapshot) -> bool:
    """Made by the function: its code (session = function name) or Lambda (`awslambda_…`)."""
    return is_role_session(
        event, snapshot.function.role_arn, (snapshot.function.name, "awslambda_*")
    )


def _dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else empty (CloudTrail fields vary by service)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """`value` as a list (None: empty; a single value: one item)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _params(event: CloudTrailEvent) -> dict[str, Any]:
    """requestParameters with lower-cased keys (Lambda logs `kMSKeyArn`, IAM `roleName`)."""
    return {str(k).lower(): v for k, v in (event.request_parameters or {}).items()}


def _function_name(value: Any) -> str | None:
    """The function name in a FunctionName parameter (name, name:qualifier, ARN, partial ARN)."""
    if not isinstance(value, str) or not value:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value.split(":", 1)[0]


def _key_id(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def neighbour_arns(snapshot: Snapshot) -> list[str]:
    """ARNs of the resources around the function whose own policies can deny it."""
    arns = [m.source.arn for m in snapshot.event_source_mappings]
    arns += [d.arn for d in snapshot.destinations]
    arns += [t.source_arn for t in snapshot.triggers]
    arns += list(snapshot.secrets)
    if snapshot.container_repository is not None:
        arns.append(snapshot.container_repository.arn)
    arns += [role.arn for role in snapshot.assumed_roles]
    return [a for a in dict.fromkeys(arns) if a and a.startswith("arn:")]


def neighbour_arn(event_source: str, value: str) -> str | None:
    """The ARN (or ARN prefix) a neighbour-change parameter names: queue URL, bucket name,
    topic/stream/table ARN, secret name or ARN."""
    if not value:
        return None
    if value.startswith("arn:"):
        return value
    service = service_prefix(event_source)
    if service == "sqs" and value.startswith("https://"):
        # https://sqs.<region>.amazonaws.com/<account>/<name>
        host, _, path = value.removeprefix("https://").partition("/")
        account, _, name = path.partition("/")
        parts = host.split(".")
        region = parts[1] if len(parts) > 3 and parts[0] == "sqs" else ""
        return f"arn:aws:sqs:{region}:{account}:{name}" if region else None
    if service == "s3":
        return f"arn:aws:s3:::{value}"
    return None


# -- relevance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The names that make an event bear on the function."""

    function_name: str
    function_arns: frozenset[str]
    role_arn: str
    role_name: str
    policy_arns: frozenset[str]
    key_ids: frozenset[str]
    esm_uuids: frozenset[str]
    region: str
    #: event sources, destinations, triggers and secrets
    neighbours: frozenset[str] = frozenset()

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Scope:
        fn = snapshot.function
        arns = {fn.arn}
        if fn.qualifier:
            arns.add(f"{fn.arn}:{fn.qualifier}")
        role_name = snapshot.role.name if snapshot.role else fn.role_arn.rsplit("/", 1)[-1]
        policies: set[str] = set()
        if snapshot.role is not None:
            policies.update(p.arn for p in snapshot.role.attached_policies if p.arn)
            if snapshot.role.boundary is not None and snapshot.role.boundary.arn:
                policies.add(snapshot.role.boundary.arn)
        keys = {k for k in [fn.kms_key_arn, *snapshot.kms_keys] if k}
        key_ids = {_key_id(k) for k in keys} | keys
        return cls(
            function_name=fn.name,
            function_arns=frozenset(arns),
            role_arn=fn.role_arn,
            role_name=role_name,
            policy_arns=frozenset(policies),
            key_ids=frozenset(key_ids),
            esm_uuids=frozenset(m.uuid for m in snapshot.event_source_mappings),
            region=snapshot.region,
            neighbours=frozenset(neighbour_arns(snapshot)),
        )

    def neighbour_of(self, event: CloudTrailEvent) -> str | None:
        """The neighbour whose resource policy the event changes, if any."""
        key = NEIGHBOUR_CHANGES.get((service_prefix(event.source), normalise_name(event.name)))
        if key is None:
            return None
        value = _str(_params(event).get(key))
        named = neighbour_arn(event.source, value)
        for arn in self.neighbours:
            if named and (arn == named or arn.startswith(named + "-")):  # secret name suffix
                return arn
            if (
                not named
                and value
                and (
                    f":secret:{value}-" in arn  # a secret by name
                    or arn.endswith("/" + value)  # a repository or role by name
                )
            ):
                return arn
        return None

    def touches_function(self, event: CloudTrailEvent) -> bool:
        if event.source == "lambda.amazonaws.com" and event.raw.get("awsRegion") not in (
            None,
            self.region,
        ):
            return False  # a function of the same name in another region
        params = _params(event)
        if _function_name(params.get("functionname")) == self.function_name:
            return True
        if str(params.get("uuid") or "") in self.esm_uuids:
            return True
        resource = params.get("resource")  # TagResource / UntagResource
        if isinstance(resource, str) and _function_name(resource) == self.function_name:
            return True
        return any(
            r in self.function_arns
            or r == self.function_name
            or (":function:" in r and _function_name(r) == self.function_name)
            for r in event.resources
        )

    def touches_role(self, event: CloudTrailEvent) -> bool:
        params = _params(event)
        if params.get("rolename") == self.role_name:
            return True
        return self.role_arn in event.resources or self.role_name in event.resources

    def touches_policy(self, event: CloudTrailEvent) -> bool:
        params = _params(event)
        if _str(params.get("policyarn")) in self.policy_arns:
            return True
        return any(r in self.policy_arns for r in event.resources)

    def touches_key(self, event: CloudTrailEvent) -> bool:
        key = _params(event).get("keyid")
        if isinstance(key, str) and (key in self.key_ids or _key_id(key) in self.key_ids):
            return True
        return any(r in self.key_ids for r in event.resources)


def _relevant(event: CloudTrailEvent, scope: _Scope, snapshot: Snapshot) -> bool:
    name = normalise_name(event.name)
    service = service_prefix(event.source)
    if is_denial(event):
        return (
            is_function_session(event, snapshot)
            or scope.touches_function(event)
            or scope.touches_role(event)
        )
    if service == "lambda" and name in LAMBDA_CHANGES and scope.touches_function(event):
        return True
    if service == "iam" and name in IAM_ROLE_CHANGES and scope.touches_role(event):
        return True
    if service == "iam" and name in IAM_POLICY_CHANGES and scope.touches_policy(event):
        return True
    if service == "kms" and name in KMS_CHANGES and scope.touches_key(event):
        return True
    return scope.neighbour_of(event) is not None


def relevant_events(snapshot: Snapshot) -> list[CloudTrailEvent]:
    """The snapshot's CloudTrail events that bear on the function, in its window, newest first."""
    if not snapshot.cloudtrail:
        return []
    scope = _Scope.of(snapshot)
    out = [
        e
        for e in snapshot.cloudtrail
        if _in_window(e.time, snapshot) and _relevant(e, scope, snapshot)
    ]
    unique = {e.event_id: e for e in out}
    return sorted(unique.values(), key=lambda e: e.time, reverse=True)


def bears_on(snapshot: Snapshot) -> Callable[[CloudTrailEvent], bool]:
    """A predicate: does an event bear on the function (timeline-relevant, or a call made by
    one of its sessions)? For collectors that sweep all recent events."""
    scope = _Scope.of(snapshot)

    def predicate(event: CloudTrailEvent) -> bool:
        return _relevant(event, scope, snapshot) or is_function_session(event, snapshot)

    return predicate


def _in_window(time: datetime, snapshot: Snapshot) -> bool:
    if snapshot.window_start is not None and time < snapshot.window_start:
        return False
    return not (snapshot.window_end is not None and time > snapshot.window_end)


# -- summaries -------------------------------------------------------------------------------


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _earlier(
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
    fn = _function_name(_params(event).get("functionname"))
    for earlier in _earlier(event, history, ("UpdateFunctionConfiguration", "CreateFunction")):
        params = _params(earlier)
        if _function_name(params.get("functionname")) == fn and params.get("role"):
            return str(params["role"])
    return None


def _added_statement(
    event: CloudTrailEvent, history: list[CloudTrailEvent]
) -> dict[str, Any] | None:
    """The AddPermission parameters that created the statement a RemovePermission removes."""
    params = _params(event)
    sid = params.get("statementid")
    fn = _function_name(params.get("functionname"))
    for earlier in _earlier(event, history, ("AddPermission",)):
        added = _params(earlier)
        if added.get("statementid") == sid and _function_name(added.get("functionname")) == fn:
            return added
    return None


def _config_changes(event: CloudTrailEvent, history: list[CloudTrailEvent]) -> list[str]:
    params = _params(event)
    parts: list[str] = []
    if params.get("role"):
        before = _previous_role(event, history)
        if before and before != params["role"]:
            parts.append(f"changed execution role from {before} to {params['role']}")
        else:
            parts.append(f"set execution role to {params['role']}")
    if "vpcconfig" in params:
        vpc = _dict(params.get("vpcconfig"))
        subnets = _list(vpc.get("subnetIds") or vpc.get("subnetids"))
        groups = _list(vpc.get("securityGroupIds") or vpc.get("securitygroupids"))
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
        layers = _list(params.get("layers"))
        parts.append(
            f"changed layers to {', '.join(map(str, layers))}" if layers else "removed all layers"
        )
    if "environment" in params:
        parts.append("changed environment variables")
    if "filesystemconfigs" in params:
        parts.append("changed file systems")
    if "deadletterconfig" in params:
        target = _dict(params.get("deadletterconfig")).get("targetArn")
        parts.append(
            f"changed dead-letter target to {target}" if target else "removed dead-letter target"
        )
    return parts


def _lambda_summary(name: str, event: CloudTrailEvent, history: list[CloudTrailEvent]) -> str:
    p = _params(event)
    qualifier = f" (qualifier {p['qualifier']})" if p.get("qualifier") else ""
    if name == "RemovePermission":
        added = _added_statement(event, history)
        action = str((added or {}).get("action") or "")
        if action and not action.lower().startswith("lambda:invokefunction"):
            return f"removed permission {p.get('statementid')} ({action}){qualifier}"
        return f"removed invoke permission {p.get('statementid')}{qualifier}"
    if name == "AddPermission":
        text = f"added permission {p.get('statementid')}: {_str(p.get('principal'))} may "
        text += _str(p.get("action"))
        if p.get("sourcearn"):
            text += f" from {p['sourcearn']}"
        if p.get("functionurlauthtype"):
            text += f" (function URL auth {p['functionurlauthtype']})"
        return text + qualifier
    if name == "UpdateFunctionConfiguration":
        parts = _config_changes(event, history)
        return "; ".join(parts) if parts else "updated function configuration"
    if name == "CreateFunction":
        return f"created function with execution role {_str(p.get('role'))}".rstrip()
    if name == "DeleteFunction":
        return f"deleted function{qualifier}"
    if name == "UpdateFunctionCode":
        return "updated function code"
    if name.endswith("FunctionUrlConfig"):
        verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[name[:6]]
        auth = f" (auth type {p['authtype']})" if p.get("authtype") else ""
        return f"{verb} function URL{auth}{qualifier}"
    if name == "CreateEventSourceMapping":
        return f"created event source mapping from {_str(p.get('eventsourcearn'))}"
    if name == "UpdateEventSourceMapping":
        enabled = p.get("enabled")
        state = (
            {True: " (enabled)", False: " (disabled)"}.get(enabled, "")
            if isinstance(enabled, bool)
            else ""
        )
        return f"updated event source mapping {_str(p.get('uuid'))}{state}"
    if name == "DeleteEventSourceMapping":
        return f"deleted event source mapping {_str(p.get('uuid'))}"
    if name.endswith("Alias"):
        verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[name[:6]]
        return f"{verb} alias {_str(p.get('name'))}"
    if name.endswith("FunctionEventInvokeConfig"):
        return "changed asynchronous invocation configuration (destinations)"
    if name == "TagResource":
        return "tagged function: " + ", ".join(sorted(map(str, _dict(p.get("tags")))))
    if name == "UntagResource":
        return "untagged function: " + ", ".join(map(str, _list(p.get("tagkeys"))))
    return name


def _iam_summary(name: str, event: CloudTrailEvent) -> str:
    p = _params(event)
    role = _str(p.get("rolename"))
    policy = _str(p.get("policyarn"))
    texts: dict[str, Callable[[], str]] = {
        "AttachRolePolicy": lambda: f"attached policy {policy} to {role}",
        "DetachRolePolicy": lambda: f"detached policy {policy} from {role}",
        "PutRolePolicy": lambda: f"put inline policy {_str(p.get('policyname'))} on {role}",
        "DeleteRolePolicy": lambda: (
            f"deleted inline policy {_str(p.get('policyname'))} from {role}"
        ),
        "PutRolePermissionsBoundary": lambda: (
            f"set permissions boundary {_str(p.get('permissionsboundary'))} on {role}"
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
            f"set default version of {policy} to {_str(p.get('versionid'))}"
        ),
        "DeletePolicyVersion": lambda: f"deleted version {_str(p.get('versionid'))} of {policy}",
        "DeletePolicy": lambda: f"deleted policy {policy}",
    }
    return texts[name]() if name in texts else name


def _kms_summary(name: str, event: CloudTrailEvent) -> str:
    p = _params(event)
    key = _str(p.get("keyid"))
    texts = {
        "PutKeyPolicy": f"changed key policy of {key}",
        "CreateGrant": f"created grant on {key} for {_str(p.get('granteeprincipal'))}",
        "RevokeGrant": f"revoked grant {_str(p.get('grantid'))} on {key}",
        "RetireGrant": f"retired grant {_str(p.get('grantid'))}".rstrip()
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


def _neighbour_summary(name: str, event: CloudTrailEvent, arn: str) -> str:
    p = _params(event)
    if name == "SetQueueAttributes":
        attributes = p.get("attributes") or {}
        keys = sorted(attributes) if isinstance(attributes, dict) else []
        if "Policy" in keys:
            return f"changed the queue policy of {arn}"
        return f"changed {', '.join(keys) or 'attributes'} of {arn}"
    if name in ("AddPermission", "RemovePermission"):
        verb = "added" if name == "AddPermission" else "removed"
        return f"{verb} permission {_str(p.get('label'))} on {arn}".replace("  ", " ")
    if name == "SetTopicAttributes":
        return f"changed {_str(p.get('attributename')) or 'attributes'} of {arn}"
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
        text = _iam_summary(name, event)
    elif service == "kms":
        text = _kms_summary(name, event)
    else:
        neighbour = _Scope.of(snapshot).neighbour_of(event)
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


# -- correlation -----------------------------------------------------------------------------

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
    if any(a.startswith("kms:") for a in actions):
        kinds.add("kms")
    if any(a.startswith("ec2:") and "networkinterface" in a for a in actions):
        kinds.add("vpc")
    if "lambda:getlayerversion" in actions:
        kinds.add("layer")
    if not kinds and finding.principal is None and actions:
        kinds.add("role")
    return kinds


def _score(event: CloudTrailEvent, finding: Finding, kinds: set[str], snapshot: Snapshot) -> int:
    """How strongly an event explains a finding: 0 not at all, 1 plausible, 2+ specific."""
    if event.error_code:
        return 0
    name = normalise_name(event.name)
    service = service_prefix(event.source)
    p = _params(event)
    evidence = {e.policy for e in finding.evidence if e.policy}
    history = snapshot.cloudtrail or []
    score = 0
    if "invoke" in kinds and service == "lambda":
        if name == "RemovePermission":
            sid = str(p.get("statementid") or "")
            if sid and sid in _statement_sids(snapshot.resource_policy):
                return 0  # the statement is back: not the cause
            score = 1
            added = _added_statement(event, history) or {}
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
        elif name in ("DeleteFunction", "CreateFunction"):
            score = 1
    if "trust" in kinds and service == "iam" and name in ("UpdateAssumeRolePolicy", "CreateRole"):
        score = max(score, 3 if name == "UpdateAssumeRolePolicy" else 1)
    if "role" in kinds:
        if service == "iam":
            if name in ("DetachRolePolicy", "DeleteRolePolicy"):
                score = max(score, 2)
            elif name == "PutRolePermissionsBoundary":
                score = max(score, 3 if "boundary" in finding.denied_by else 2)
            elif name in ("PutRolePolicy", "AttachRolePolicy"):
                policy = p.get("policyarn") or f"{p.get('rolename')}/{p.get('policyname')}"
                if _str(policy) in evidence or _str(p.get("policyname")) in evidence:
                    score = max(score, 3)
                elif name == "PutRolePolicy":
                    score = max(score, 1)
            elif name in ("CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy"):
                score = max(score, 3 if _str(p.get("policyarn")) in evidence else 2)
            elif name in ("CreateRole", "DeleteRole"):
                score = max(score, 1)
        if service == "lambda" and name == "UpdateFunctionConfiguration" and p.get("role"):
            score = max(score, 2)
    if service == "lambda" and name == "UpdateFunctionConfiguration":
        if "vpc" in kinds and "vpcconfig" in p:
            score = max(score, 2)
        if "kms" in kinds and "kmskeyarn" in p:
            score = max(score, 2)
        if "layer" in kinds and "layers" in p:
            score = max(score, 2)
    neighbour = _Scope.of(snapshot).neighbour_of(event)
    if neighbour is not None and (
        neighbour == finding.source
        or any(r == neighbour or r.startswith(neighbour + "/") for r in finding.resources)
    ):
        score = max(score, 2)
    if "kms" in kinds and service == "kms" and name in KMS_CHANGES - {"EnableKey", "CreateGrant"}:
        key = str(p.get("keyid") or "")
        in_finding = any(key and (key in r or _key_id(key) in r) for r in finding.resources)
        score = max(score, 3 if in_finding else 2)
    return score


def cause_text(event: CloudTrailEvent, snapshot: Snapshot) -> str:
    """`alice (arn) removed invoke permission x at 2026-...Z from 203.0.113.5`."""
    who = actor_label(event.actor)
    if event.actor and who != event.actor:
        who = f"{who} ({event.actor})"
    text = f"{who} {summarise(event, snapshot)} at {utc_iso(event.time)}"
    if event.source_ip:
        text += f" from {event.source_ip}"
    return text


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
                    "related_events": [
                        *finding.related_events,
                        *[to_event(e, snapshot) for e in related],
                    ],
                }
            )
        )
    return out


# -- denial pattern --------------------------------------------------------------------------


@dataclass(frozen=True)
class DenialSpan:
    """When the function's denials were seen."""

    first_seen: datetime
    last_seen: datetime
    count: int
    actions: tuple[str, ...]


def function_denials(snapshot: Snapshot) -> list[CloudTrailEvent]:
    """Denied calls made by the function's sessions, oldest first."""
    events = [
        e
        for e in snapshot.cloudtrail or []
        if is_denial(e) and is_function_session(e, snapshot) and _in_window(e.time, snapshot)
    ]
    return sorted({e.event_id: e for e in events}.values(), key=lambda e: e.time)


def _log_denial_times(snapshot: Snapshot) -> list[datetime]:
    markers = ("accessdenied", "is not authorized to perform", "unauthorizedoperation")
    return sorted(
        line.time for line in snapshot.logs if any(m in line.message.lower() for m in markers)
    )


def denial_span(snapshot: Snapshot) -> DenialSpan | None:
    """First and last time the function was denied (CloudTrail, else its logs)."""
    denials = function_denials(snapshot)
    if denials:
        return DenialSpan(
            first_seen=denials[0].time,
            last_seen=denials[-1].time,
            count=len(denials),
            actions=tuple(dict.fromkeys(action_of(e) for e in denials)),
        )
    times = _log_denial_times(snapshot)
    if times:
        return DenialSpan(first_seen=times[0], last_seen=times[-1], count=len(times), actions=())
    return None


def pattern(snapshot: Snapshot) -> PatternKind:
    """`intermittent` when the denied actions also succeeded between or after the denials,
    `continuous` when the denials form an unbroken run (no success of the same action after
    the first denial), `unknown` with no denial or a single one and nothing else to go on."""
    denials = function_denials(snapshot)
    if denials:
        first = denials[0].time
        denied_actions = {action_of(e) for e in denials}
        successes = [
            e
            for e in snapshot.cloudtrail or []
            if not e.error_code
            and is_function_session(e, snapshot)
            and action_of(e) in denied_actions
            and e.time > first
        ]
        if successes:
            return "intermittent"
        if len(denials) >= 2 or _change_before(snapshot, first):
            return "continuous"
        return "unknown"
    times = _log_denial_times(snapshot)
    if len(times) < 2:
        return "unknown"
    return _spread(times, snapshot)


def _change_before(snapshot: Snapshot, first: datetime) -> bool:
    return any(not is_denial(e) and e.time <= first for e in relevant_events(snapshot))


def _spread(times: list[datetime], snapshot: Snapshot) -> PatternKind:
    """Log-only estimate: a gap between denials much longer than their usual spacing, with
    the function's other log lines in it, means it also worked in between."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    typical = sorted(gaps)[len(gaps) // 2]
    longest = max(gaps)
    if longest > max(typical * 10, timedelta(minutes=15)):
        start = times[gaps.index(longest)]
        end = start + longest
        between = [
            line
            for line in snapshot.logs
            if start < line.time < end and line.message.startswith(("START", "REPORT"))
        ]
        if between:
            return "intermittent"
    return "continuous"
