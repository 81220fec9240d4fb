"""Collect everything that decides a function's permissions into one `Snapshot`.

Order (independent reads run concurrently, bounded by AwsAccess):

1. parse the reference, resolve account/region, check the account is allowed;
2. GetFunction (FunctionNotFound / AwsUnavailable end the diagnosis here);
3. in parallel: resource policy (+ S3 triggers it names), event source mappings
   (+ their sources), function URLs, destinations (+ their targets), the execution role,
   VPC subnets and security groups, layer policies, triggers (EventBridge, SNS, and with
   `scan_triggers` all S3 buckets and API Gateway APIs; rules and topics of other accounts
   the resource policy names), SCPs/RCPs;
4. the KMS keys named by any of the above;
5. late collectors (`LATE_COLLECTORS`): logs, CloudTrail, EFS, ECR, each reading more
   and filling its own part of the snapshot.

Every failed read is a `Gap` on `snapshot.gaps`; nothing is raised after step 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.arns import BadFunctionRef, FunctionRef, account_of, parse_function_ref, region_of
from bot.aws import (
    apigateway,
    assume_targets,
    cloudtrail,
    docdb,
    dynamodb,
    ec2,
    ecr,
    efs,
    events,
    iam,
    kafka,
    kinesis,
    kms,
    lambda_,
    mq,
    named_triggers,
    organizations,
    s3,
    sns,
    sqs,
    tags,
)
from bot.aws import logs as logs_
from bot.aws import secrets as secrets_
from bot.aws.access import AwsAccess
from bot.aws.errors import AwsUnavailable, ReadOnlyViolation
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import (
    REDACTED,
    DestinationTarget,
    EventSource,
    EventSourceMapping,
    FunctionConfig,
    FunctionUrl,
    Gap,
    PolicyDocument,
    Secret,
    Snapshot,
    Trigger,
)


@dataclass
class CollectContext:
    """What a late collector gets: the snapshot so far and a gap-recording reader."""

    reader: Reader
    snapshot: Snapshot
    ref: FunctionRef
    window_start: datetime
    window_end: datetime
    scan_triggers: bool = False


LateCollector = Callable[[CollectContext], Awaitable[None]]

#: run in order after the snapshot is assembled; each adds one part (logs, CloudTrail, ...).
#: Append one line per collector: `some_module.collect_something,`
LATE_COLLECTORS: tuple[LateCollector, ...] = (
    cloudtrail.collect,
    logs_.collect,
    assume_targets.collect,
    efs.collect,
    ecr.collect,
    tags.collect,
)


async def collect(
    access: AwsAccess,
    function_ref: str,
    *,
    since: timedelta = timedelta(hours=24),
    scan_triggers: bool = False,
    fresh: bool = False,
    late_collectors: tuple[LateCollector, ...] | None = None,
) -> Snapshot:
    """Read one function and everything around it (see the module docstring).

    Raises BadFunctionRef, AccountNotAllowed, FunctionNotFound (bad input) or
    AwsUnavailable (AWS unreachable, no credentials, role not assumable).
    `fresh=True` bypasses the per-account caches (Rerun).
    """
    ref = await resolve_ref(access, function_ref)
    account, region = ref.account or "", ref.region or ""
    await access.ensure_allowed(account)
    window_end = datetime.now(UTC)
    window_start = window_end - since
    reader = Reader(access, account=account, region=region, partition=ref.partition, fresh=fresh)
    function, env_values = await lambda_.read_function_and_secrets(reader, ref)

    task = asyncio.create_task
    policy_task = task(lambda_.read_resource_policy(reader, ref))
    sources_task = task(_mappings_with_sources(reader, ref))
    urls_task = task(_cached_urls(reader, ref))
    destinations_task = task(_destinations_with_targets(reader, ref, function))
    role_task = task(iam.read_role(reader, function.role_arn) if function.role_arn else _none())
    layers_task = task(lambda_.read_layer_policies(reader, function))
    network_task = task(ec2.read_network(reader, function.vpc) if function.vpc else _none())
    org_task = task(organizations.read_org_policies(reader, account))
    events_task = task(
        _cached_triggers(reader, ("events-triggers", ref.arn), events.read_event_triggers, ref)
    )
    sns_task = task(sns.read_sns_triggers(reader, ref))
    api_task = task(apigateway.read_api_triggers(reader, ref) if scan_triggers else _empty())

    resource_policy = await policy_task
    s3_task = task(s3.read_s3_triggers(reader, ref, resource_policy, scan=scan_triggers))
    named_task = task(named_triggers.read_named_triggers(reader, ref, resource_policy))
    mappings, secrets, source_keys = await sources_task
    esm_targets = await asyncio.gather(
        *(
            _read_target(reader, lambda_.esm_destination(m))
            for m in mappings
            if m.on_failure_destination
        )
    )
    destinations = [*(await destinations_task), *esm_targets]
    triggers = [*(await s3_task), *(await events_task), *(await sns_task), *(await api_task)]
    seen = {(t.service, t.source_arn) for t in triggers}
    triggers += [t for t in await named_task if (t.service, t.source_arn) not in seen]
    qualifier_policies = await _qualifier_policies(reader, ref, triggers)
    role = await role_task
    urls = await urls_task
    network = await network_task
    organization = await org_task
    function.layers = await layers_task
    snapshot = Snapshot(
        account=account,
        region=region,
        partition=ref.partition,
        requested_by=access.requested_by,
        function=function,
        resource_policy=resource_policy,
        qualifier_policies=qualifier_policies,
        role=role,
        event_source_mappings=mappings,
        triggers=triggers,
        function_urls=urls or [],
        destinations=destinations,
        secrets=secrets,
        network=network,
        organization=organization,
        window_start=window_start,
        window_end=window_end,
        scanned_triggers=scan_triggers,
    )
    await _read_keys(reader, snapshot, source_keys, destinations_keys(destinations))
    snapshot.gaps = reader.gaps
    context = CollectContext(
        reader=reader,
        snapshot=snapshot,
        ref=ref,
        window_start=window_start,
        window_end=window_end,
        scan_triggers=scan_triggers,
    )
    try:
        for late in LATE_COLLECTORS if late_collectors is None else late_collectors:
            await _run_late(late, context)
    finally:
        scrub_values(snapshot, env_values)
    return snapshot


#: shorter values are too common to be secrets and would blank unrelated text
MIN_SCRUBBED_LENGTH = 4


def scrub_values(snapshot: Snapshot, values: list[str]) -> None:
    """Replace the function's secret environment variable values (`lambda_._SECRET_NAME`)
    wherever its code may have printed them: log lines, CloudTrail messages and
    parameters. The values are known only here, at collection time; the snapshot never
    holds them."""
    secrets = sorted({v for v in values if len(v) >= MIN_SCRUBBED_LENGTH}, key=len, reverse=True)
    if not secrets:
        return

    def clean(text: str) -> str:
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def deep(value: Any) -> Any:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, dict):
            return {k: deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [deep(v) for v in value]
        return value

    for line in snapshot.logs:
        line.message = clean(line.message)
    for event in snapshot.cloudtrail or []:
        if event.error_message:
            event.error_message = clean(event.error_message)
        if event.request_parameters is not None:
            event.request_parameters = deep(event.request_parameters)
        event.raw = deep(event.raw)


async def _run_late(late: LateCollector, context: CollectContext) -> None:
    """Run one late collector; an unexpected failure is a gap naming it, not a lost
    diagnosis (what was already read stays). Read-only violations still propagate."""
    try:
        await late(context)
    except (ReadOnlyViolation, AwsUnavailable, asyncio.CancelledError):
        raise
    except Exception as exc:
        name = f"{getattr(late, '__module__', '?')}.{getattr(late, '__name__', '?')}"
        context.snapshot.gaps.append(
            Gap(
                operation=f"lambda-why:{name}",
                resource=context.snapshot.function.arn,
                error=f"{type(exc).__name__}: {exc}",
            )
        )


async def resolve_ref(access: AwsAccess, function_ref: str) -> FunctionRef:
    """Parse the reference and fill in the current account, region and partition."""
    ref = parse_function_ref(function_ref)
    identity = await access.own_identity()
    region = ref.region or access.default_region
    if region is None:
        raise BadFunctionRef(
            f"{function_ref.strip()!r} names no region and no AWS region is configured: "
            "pass the function ARN or set AWS_REGION"
        )
    return ref.resolve(partition=identity.partition, region=region, account=identity.account)


async def _cached_urls(reader: Reader, ref: FunctionRef) -> list[FunctionUrl] | None:
    async def load() -> tuple[list[FunctionUrl] | None, list[Gap]]:
        child = reader.child()
        return await lambda_.read_function_urls(child, ref), child.gaps

    urls = await reader.cached(("lambda-urls", ref.arn), load)
    return None if urls is None else [u.model_copy(deep=True) for u in urls]


async def _cached_triggers(
    reader: Reader,
    key: tuple[str, str],
    read: Callable[[Reader, FunctionRef], Awaitable[list[Trigger]]],
    ref: FunctionRef,
) -> list[Trigger]:
    async def load() -> tuple[list[Trigger], list[Gap]]:
        child = reader.child()
        return await read(child, ref), child.gaps

    return [t.model_copy(deep=True) for t in await reader.cached(key, load)]


async def _qualifier_policies(
    reader: Reader, ref: FunctionRef, triggers: list[Trigger]
) -> dict[str, PolicyDocument | None]:
    """Resource policies of the ARNs triggers invoke other than the one asked for: other
    versions/aliases, and the unqualified function when a qualifier was asked for (Lambda
    keeps one resource policy per qualifier)."""
    base = ref.unqualified_arn
    targets = sorted(
        {
            t.detail["target"]
            for t in triggers
            if (t.detail.get("target") == base or t.detail.get("target", "").startswith(base + ":"))
            and t.detail["target"] != ref.arn
        }
    )
    policies = await asyncio.gather(
        *(lambda_.read_resource_policy(reader, parse_function_ref(target)) for target in targets)
    )
    return dict(zip(targets, policies, strict=True))


# ---- event sources ----------------------------------------------------------------------

#: (mappings with their sources read, secrets by ARN, {source ARN: KMS key reference})
SourcesRead = tuple[list[EventSourceMapping], dict[str, Secret], dict[str, str]]


async def _mappings_with_sources(reader: Reader, ref: FunctionRef) -> SourcesRead:
    mappings = await lambda_.read_event_source_mappings(reader, ref)
    if not mappings:
        return [], {}, {}
    sources = await asyncio.gather(*(_read_source(reader, m.source) for m in mappings))
    keys: dict[str, str] = {}
    for mapping, (source, key) in zip(mappings, sources, strict=True):
        mapping.source = source
        if key and source.arn:
            keys[source.arn] = key
    secret_arns = list(
        dict.fromkeys(
            c["uri"]
            for m in mappings
            for c in m.source_access_configurations
            if c.get("uri", "").startswith("arn:") and ":secretsmanager:" in c["uri"]
        )
    )
    read = await asyncio.gather(*(secrets_.read_secret(reader, arn) for arn in secret_arns))
    secrets: dict[str, Secret] = {}
    for arn, (secret, key) in zip(secret_arns, read, strict=True):
        secrets[arn] = secret
        if key:
            keys[arn] = key
    return mappings, secrets, keys


async def _read_source(reader: Reader, source: EventSource) -> tuple[EventSource, str | None]:
    """The source with its policy/attributes, and the KMS key the function's role uses."""
    if source.arn is None:
        return source, None
    if source.type == "sqs":
        queue = await sqs.read_queue(reader, source.arn)
        return source.model_copy(
            update={"exists": queue.exists, "policy": queue.policy, "attributes": queue.attributes}
        ), queue.kms_key
    if source.type == "kinesis":
        stream, key = await kinesis.read_stream(reader, source)
        return stream, key
    if source.type == "dynamodb":
        return await dynamodb.read_stream(reader, source), None
    if source.type == "msk":
        return await kafka.read_cluster(reader, source), None
    if source.type == "mq":
        return await mq.read_broker(reader, source), None
    if source.type == "docdb":
        return await docdb.read_cluster(reader, source), None
    return source, None


# ---- destinations -----------------------------------------------------------------------


async def _destinations_with_targets(
    reader: Reader, ref: FunctionRef, function: FunctionConfig
) -> list[DestinationTarget]:
    async def load() -> tuple[list[DestinationTarget], list[Gap]]:
        child = reader.child()
        return await lambda_.read_destinations(child, ref, function), child.gaps

    targets = [
        t.model_copy()
        for t in await reader.cached(
            ("lambda-destinations", ref.arn, function.dead_letter_target), load
        )
    ]
    return list(await asyncio.gather(*(_read_target(reader, t) for t in targets)))


async def _read_target(reader: Reader, target: DestinationTarget) -> DestinationTarget:
    """The destination's resource policy and KMS key (a key reference until resolved)."""
    if target.service == "sqs":
        queue = await sqs.read_queue(reader, target.arn)
        return target.model_copy(
            update={"exists": queue.exists, "policy": queue.policy, "kms_key_arn": queue.kms_key}
        )
    if target.service == "sns":
        topic = await sns.read_topic(reader, target.arn)
        return target.model_copy(
            update={"exists": topic.exists, "policy": topic.policy, "kms_key_arn": topic.kms_key}
        )
    if target.service == "lambda":
        try:
            target_ref = parse_function_ref(target.arn)
        except BadFunctionRef:
            return target
        policy = await lambda_.read_resource_policy(reader, target_ref)
        return target.model_copy(update={"policy": policy})
    if target.service == "events":
        bus = target.arn.rsplit("/", 1)[-1]
        reply = await reader.call(
            "events",
            "DescribeEventBus",
            resource=target.arn,
            missing=("ResourceNotFoundException",),
            account=await reader.account_for(target.arn),
            Name=target.arn if account_of(target.arn) != reader.account else bus,
        )
        if reply is None:
            return target
        if reply is NOT_FOUND:
            return target.model_copy(update={"exists": False})
        policy = lambda_.parse_policy_text(
            reader, reply.get("Policy"), "events:DescribeEventBus", target.arn
        )
        return target.model_copy(update={"exists": True, "policy": policy})
    return target


def destinations_keys(destinations: list[DestinationTarget]) -> dict[str, str]:
    return {t.arn: t.kms_key_arn for t in destinations if t.kms_key_arn}


# ---- KMS --------------------------------------------------------------------------------


async def _read_keys(
    reader: Reader,
    snapshot: Snapshot,
    source_keys: dict[str, str],
    destination_keys: dict[str, str],
) -> None:
    """Read every key named by the function, its sources, destinations and secrets, and
    replace each reference (id, alias) by the key's ARN."""
    named: dict[str, str] = {}  # resource ARN (or "function") -> key reference

    def add(owner: str, key: str | None) -> None:
        owner_account = account_of(owner) or reader.account
        region = region_of(owner) or reader.region
        ref = kms.key_reference(
            key, partition=reader.partition, region=region, account=owner_account
        )
        if ref:
            named[owner] = ref

    add(snapshot.function.arn, snapshot.function.kms_key_arn)
    for owner, key in {**source_keys, **destination_keys}.items():
        add(owner, key)
    references = list(dict.fromkeys(named.values()))
    keys = await asyncio.gather(*(kms.read_key(reader, r) for r in references))
    resolved: dict[str, str] = {}
    for reference, found in zip(references, keys, strict=True):
        if found is not None:
            snapshot.kms_keys[found.arn] = found
            resolved[reference] = found.arn

    def final(owner: str) -> str | None:
        reference = named.get(owner)
        return None if reference is None else resolved.get(reference, reference)

    if snapshot.function.kms_key_arn:
        snapshot.function.kms_key_arn = final(snapshot.function.arn)
    for mapping in snapshot.event_source_mappings:
        if mapping.source.arn in source_keys:
            mapping.source.kms_key_arn = final(mapping.source.arn)
    for arn, secret in snapshot.secrets.items():
        if arn in source_keys:
            secret.kms_key_arn = final(arn)
    for target in snapshot.destinations:
        if target.arn in destination_keys:
            target.kms_key_arn = final(target.arn)


async def _none() -> None:
    return None


async def _empty() -> list[Trigger]:
    return []
