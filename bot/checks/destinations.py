"""Dead-letter queue and asynchronous-invocation destinations are writable by the execution role.

Lambda sends failed (or finished) asynchronous events with the execution role:
`sqs:SendMessage`, `sns:Publish`, `lambda:InvokeFunction`, `events:PutEvents`, or
`s3:PutObject` (+ `s3:ListBucket`) for S3 on-failure destinations; the target's resource
policy must also allow a cross-account role, and an encrypted queue/topic needs
`kms:GenerateDataKey` and `kms:Decrypt` on its customer managed key.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
Event source mappings' on-failure destinations are checked the same way.
"""

from __future__ import annotations

from bot.checks.common import Ask, RolePolicies, ask_role, checked_role, gaps_about
from bot.checks.fixes import ResourceSide, resource_side_for, role_principal_statement
from bot.checks.kms import find_key, key_asks, unusable_key, unusable_key_finding
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity, Status
from bot.snapshot import DestinationTarget, Snapshot

ID = "destinations"

ACTIONS = {
    "sqs": ("sqs:SendMessage",),
    "sns": ("sns:Publish",),
    "lambda": ("lambda:InvokeFunction",),
    "events": ("events:PutEvents",),
    "s3": ("s3:PutObject",),
}
KIND = {
    "dlq": "dead-letter queue",
    "on-success": "on-success destination",
    "on-failure": "on-failure destination",
}


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def targets(snapshot: Snapshot) -> list[DestinationTarget]:
    """Every destination the role writes to: DLQ, async destinations, mappings' on-failure."""
    out = list(snapshot.destinations)
    seen = {(t.kind, t.arn) for t in out}
    dlq = snapshot.function.dead_letter_target
    if dlq and not any(t.arn == dlq for t in out):
        out.append(DestinationTarget(kind="dlq", arn=dlq, service=_service(dlq)))
        seen.add(("dlq", dlq))
    for esm in snapshot.event_source_mappings:
        target = esm.on_failure_destination
        if target and not any(t.arn == target for t in out):
            out.append(DestinationTarget(kind="on-failure", arn=target, service=_service(target)))
    return out


def run(snapshot: Snapshot) -> list[Finding]:
    dests = targets(snapshot)
    if not dests:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    return [_one(snapshot, rp, t) for t in dests]


def _one(snapshot: Snapshot, rp: RolePolicies, target: DestinationTarget) -> Finding:
    service = target.service or _service(target.arn)
    actions = ACTIONS.get(service, ())
    arn = target.arn
    missing = [f"{g.operation} on {g.resource}: {g.error}" for g in gaps_about(snapshot, arn)]
    asks: list[Ask] = []
    resource = arn
    resource_account = None
    if service == "s3":
        bucket = arn.split(":::", 1)[-1].split("/", 1)[0]
        resource = f"arn:{snapshot.partition}:s3:::{bucket}/*"
        resource_account = snapshot.account
    for action in actions:
        asks.append(
            ask_role(
                snapshot,
                rp,
                action,
                resource,
                resource_policy=target.policy,
                resource_label=f"resource policy of {arn}",
                resource_missing=missing,
                resource_account=resource_account,
            )
        )
    if service == "s3":
        asks.append(
            ask_role(
                snapshot,
                rp,
                "s3:ListBucket",
                f"arn:{snapshot.partition}:s3:::{arn.split(':::', 1)[-1].split('/', 1)[0]}",
                resource_policy=target.policy,
                resource_label=f"resource policy of {arn}",
                resource_missing=missing,
                resource_account=snapshot.account,
                required=False,
            )
        )
    side: ResourceSide | None = None
    key = find_key(snapshot, target.kms_key_arn) if target.kms_key_arn else None
    if key is not None and unusable_key(key):
        return unusable_key_finding(
            ID,
            key,
            principal=rp.role_arn,
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            what=f"the {KIND.get(target.kind, target.kind)} {arn}",
            source=arn,
            consequence="Lambda cannot deliver to it",
        )
    if target.kms_key_arn:
        answers = key_asks(
            snapshot,
            rp,
            target.kms_key_arn,
            ("kms:GenerateDataKey", "kms:Decrypt"),
            via_service=f"{service}.{snapshot.region}.amazonaws.com",
        )
        asks.extend(answers.asks)
        if any(not a.allowed for a in answers.asks):
            side = answers.side
    what = KIND.get(target.kind, target.kind)
    if not asks:
        return Finding(
            check=ID,
            status=Status.UNKNOWN,
            severity=Severity.LOW,
            title=f"The {what} {arn} could not be checked",
            detail=f"Destinations of type {service!r} are not known to lambda-why.",
            principal=rp.role_arn,
            resources=[arn],
            source=arn,
        )
    if side is None and any(not a.allowed and "resource" in a.denied_by for a in asks):
        denied = sorted({a.action for a in asks if not a.allowed and "resource" in a.denied_by})
        side = resource_side_for(
            service,
            arn,
            target.policy,
            role_principal_statement("AllowLambdaDestination", rp.role_arn, denied, resource),
            rp.role_arn,
            denied,
        )
    name = arn.split(":")[-1]
    wording = Wording(
        fail=f"Execution role cannot send to the {what} {name}",
        ok=f"Execution role can send to the {what} {name}",
        unknown=f"Could not decide whether the function can send to its {what} {name}",
        warn=f"Execution role lacks recommended permissions on the {what} {name}",
        purpose=f"deliver events to the {what}",
        context=f"The function's {what} is {arn}; Lambda sends to it with the execution role.",
    )
    return role_finding(
        snapshot,
        rp,
        ID,
        asks,
        wording,
        severity=Severity.MEDIUM,
        sid="LambdaWhyDestination",
        resource_side=side,
        source=arn,
    )
