"""Which CloudTrail events bear on a function: names, sessions, scope, relevance (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.snapshot import CloudTrailEvent, Snapshot

_VERSIONED = re.compile(r"^(?P<name>[A-Za-z]+?)20\d{6}(?:v\d+)?$")
#: eventSource prefixes whose IAM service prefix differs
_SERVICE_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "streams.dynamodb": "dynamodb"}

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
    # an S3 trigger's notification configuration (the API PutBucketNotificationConfiguration
    # is recorded as PutBucketNotification)
    ("s3", "PutBucketNotification"): "bucketname",
    ("s3", "PutBucketNotificationConfiguration"): "bucketname",
    # the trust policy of a role the function's code assumes
    ("iam", "UpdateAssumeRolePolicy"): "rolename",
}
#: changes to the function's own subnets and security groups (recorded by EC2 in the
#: function's region): a deleted subnet or group, or changed rules, bear on its ENIs
EC2_NETWORK_CHANGES = frozenset(
    {
        "DeleteSubnet",
        "ModifySubnetAttribute",
        "DeleteSecurityGroup",
        "RevokeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "AuthorizeSecurityGroupIngress",
        "ModifySecurityGroupRules",
    }
)
#: Organizations changes to SCPs/RCPs (recorded in the management account's us-east-1)
ORG_POLICY_CHANGES = frozenset(
    {"UpdatePolicy", "AttachPolicy", "DetachPolicy", "DeletePolicy", "DisablePolicyType"}
)
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
    identity = as_dict(event.raw.get("userIdentity"))
    issuer = as_dict(as_dict(identity.get("sessionContext")).get("sessionIssuer")).get("arn")
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


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else empty (CloudTrail fields vary by service)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` as a list (None: empty; a single value: one item)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def params_of(event: CloudTrailEvent) -> dict[str, Any]:
    """requestParameters with lower-cased keys (Lambda logs `kMSKeyArn`, IAM `roleName`)."""
    return {str(k).lower(): v for k, v in (event.request_parameters or {}).items()}


def response_of(event: CloudTrailEvent) -> dict[str, Any]:
    """responseElements with lower-cased keys (empty when absent or not an object)."""
    return {str(k).lower(): v for k, v in as_dict(event.raw.get("responseElements")).items()}


def function_name_of(value: Any) -> str | None:
    """The function name in a FunctionName parameter (name, name:qualifier, ARN, partial ARN)."""
    if not isinstance(value, str) or not value:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value.split(":", 1)[0]


def key_id(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def org_policy_id(arn_or_id: str) -> str:
    """`arn:aws:organizations::…:policy/o-…/service_control_policy/p-abcd` → `p-abcd`."""
    return arn_or_id.rsplit("/", 1)[-1]


def org_scope(snapshot: Snapshot) -> tuple[frozenset[str], frozenset[str]]:
    """(SCP/RCP policy ids, targets from the root down to the account) of the snapshot's
    organization read; empty when the organization was not read."""
    org = snapshot.organization
    if org is None:
        return frozenset(), frozenset()
    ids = {
        org_policy_id(p.arn or p.name)
        for levels in (org.scp, org.rcp)
        for level in levels or []
        for p in level
    }
    return frozenset(i for i in ids if i), frozenset(org.path)


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


def _queue_region(host: str, default: str) -> str:
    """The region in a queue URL's host: `sqs.<region>.amazonaws.com`,
    `<region>.queue.amazonaws.com`, `queue.amazonaws.com` (us-east-1); else `default` (an
    emulator's host: SQS records its events in the queue's region)."""
    parts = host.split(":", maxsplit=1)[0].split(".")
    if len(parts) > 3 and parts[0] == "sqs":
        return parts[1]
    if len(parts) > 3 and parts[1] == "queue":
        return parts[0]
    if parts[:3] == ["queue", "amazonaws", "com"]:
        return "us-east-1"
    return default


def neighbour_arn(event_source: str, value: str, region: str = "") -> str | None:
    """The ARN (or ARN prefix) a neighbour-change parameter names: queue URL, bucket name,
    topic/stream/table ARN, secret name or ARN. `region`: where the event was recorded."""
    if not value:
        return None
    if value.startswith("arn:"):
        return value
    service = service_prefix(event_source)
    if service == "sqs" and "://" in value:
        # https://sqs.<region>.amazonaws.com/<account>/<name> (or an older or local host)
        host, _, path = value.split("://", 1)[1].partition("/")
        account, _, name = path.strip("/").partition("/")
        queue_region = _queue_region(host, region)
        if account and name and queue_region:
            return f"arn:aws:sqs:{queue_region}:{account}:{name}"
        return None
    if service == "s3":
        return f"arn:aws:s3:::{value}"
    return None


# -- relevance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
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
    #: the function's subnets and security groups
    network_ids: frozenset[str] = frozenset()
    #: SCP/RCP ids on the account's path, and the path's targets (root, OUs, account)
    org_policy_ids: frozenset[str] = frozenset()
    org_targets: frozenset[str] = frozenset()

    @classmethod
    def of(cls, snapshot: Snapshot) -> Scope:
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
        key_ids = {key_id(k) for k in keys} | keys
        network: set[str] = set()
        if fn.vpc is not None:
            network.update(fn.vpc.subnet_ids)
            network.update(fn.vpc.security_group_ids)
        org_ids, org_targets = org_scope(snapshot)
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
            network_ids=frozenset(network),
            org_policy_ids=org_ids,
            org_targets=org_targets,
        )

    def neighbour_of(self, event: CloudTrailEvent) -> str | None:
        """The neighbour whose resource policy the event changes, if any."""
        key = NEIGHBOUR_CHANGES.get((service_prefix(event.source), normalise_name(event.name)))
        if key is None:
            return None
        value = text_of(params_of(event).get(key))
        named = neighbour_arn(event.source, value, str(event.raw.get("awsRegion") or ""))
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
        params = params_of(event)
        if function_name_of(params.get("functionname")) == self.function_name:
            return True
        if str(params.get("uuid") or "") in self.esm_uuids:
            return True
        resource = params.get("resource")  # TagResource / UntagResource
        if isinstance(resource, str) and function_name_of(resource) == self.function_name:
            return True
        # a mapping no longer in the snapshot (DeleteEventSourceMapping names only its UUID;
        # the response names the function)
        response = response_of(event)
        if response.get("uuid") and str(response["uuid"]) in self.esm_uuids:
            return True
        for key in ("functionarn", "functionname"):
            if function_name_of(response.get(key)) == self.function_name and (
                key == "functionname" or self._same_region(response.get(key))
            ):
                return True
        return any(
            r in self.function_arns
            or r == self.function_name
            or (":function:" in r and function_name_of(r) == self.function_name)
            for r in event.resources
        )

    def _same_region(self, arn: Any) -> bool:
        parts = str(arn).split(":")
        return len(parts) < 4 or parts[3] in ("", self.region)

    def touches_network(self, event: CloudTrailEvent) -> bool:
        """A change to one of the function's subnets or security groups."""
        if not self.network_ids:
            return False
        params = params_of(event)
        for key in ("subnetid", "groupid"):
            if text_of(params.get(key)) in self.network_ids:
                return True
        # ModifySecurityGroupRules: {"ModifySecurityGroupRulesRequest": {"GroupId": ...}}
        for value in params.values():
            if isinstance(value, dict):
                inner = {str(k).lower(): v for k, v in value.items()}
                if text_of(inner.get("groupid")) in self.network_ids:
                    return True
        return any(r in self.network_ids or key_id(r) in self.network_ids for r in event.resources)

    def touches_org_policy(self, event: CloudTrailEvent) -> bool:
        """An SCP/RCP on the account's path changed, or a policy was attached to or detached
        from a target on it."""
        if not self.org_targets and not self.org_policy_ids:
            return False
        params = params_of(event)
        if text_of(params.get("policyid")) in self.org_policy_ids:
            return True
        if text_of(params.get("targetid")) in self.org_targets:
            return True
        return normalise_name(event.name) == "DisablePolicyType" and bool(
            self.org_targets & {text_of(params.get("rootid"))}
        )

    def touches_role(self, event: CloudTrailEvent) -> bool:
        params = params_of(event)
        if params.get("rolename") == self.role_name:
            return True
        # sts:AssumeRole of the role (Lambda's, denied when the trust policy is broken): a
        # failed call's record may list no resources
        if params.get("rolearn") == self.role_arn:
            return True
        return self.role_arn in event.resources or self.role_name in event.resources

    def touches_policy(self, event: CloudTrailEvent) -> bool:
        params = params_of(event)
        if text_of(params.get("policyarn")) in self.policy_arns:
            return True
        return any(r in self.policy_arns for r in event.resources)

    def touches_key(self, event: CloudTrailEvent) -> bool:
        key = params_of(event).get("keyid")
        if isinstance(key, str) and (key in self.key_ids or key_id(key) in self.key_ids):
            return True
        return any(r in self.key_ids for r in event.resources)


def is_relevant(event: CloudTrailEvent, scope: Scope, snapshot: Snapshot) -> bool:
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
    if service == "ec2" and name in EC2_NETWORK_CHANGES and scope.touches_network(event):
        return True
    if service == "organizations" and name in ORG_POLICY_CHANGES:
        return scope.touches_org_policy(event)
    return scope.neighbour_of(event) is not None


def relevant_events(snapshot: Snapshot) -> list[CloudTrailEvent]:
    """The snapshot's CloudTrail events that bear on the function, in its window, newest first."""
    if not snapshot.cloudtrail:
        return []
    scope = Scope.of(snapshot)
    out = [
        e
        for e in snapshot.cloudtrail
        if in_window(e.time, snapshot) and is_relevant(e, scope, snapshot)
    ]
    unique = {e.event_id: e for e in out}
    return sorted(unique.values(), key=lambda e: e.time, reverse=True)


def bears_on(snapshot: Snapshot) -> Callable[[CloudTrailEvent], bool]:
    """A predicate: does an event bear on the function (timeline-relevant, or a call made by
    one of its sessions)? For collectors that sweep all recent events."""
    scope = Scope.of(snapshot)

    def predicate(event: CloudTrailEvent) -> bool:
        return is_relevant(event, scope, snapshot) or is_function_session(event, snapshot)

    return predicate


def in_window(time: datetime, snapshot: Snapshot) -> bool:
    if snapshot.window_start is not None and time < snapshot.window_start:
        return False
    return not (snapshot.window_end is not None and time > snapshot.window_end)
