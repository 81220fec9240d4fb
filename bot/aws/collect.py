"""Collect everything that decides a function's permissions into one `Snapshot`.

Order (independent reads run concurrently, bounded by AwsAccess):

1. parse the reference, resolve account/region, check the account is allowed;
2. GetFunction (FunctionNotFound / AwsUnavailable end the diagnosis here);
3. in parallel: resource policy (+ S3 triggers it names), event source mappings
   (+ their sources), function URLs, destinations (+ their targets), the execution role,
   VPC subnets and security groups, layer policies, triggers (EventBridge, SNS, and with
   `scan_triggers` all S3 buckets and API Gateway APIs), SCPs/RCPs;
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

from bot.arns import BadFunctionRef, FunctionRef, parse_function_ref
from bot.aws import cloudtrail, iam, lambda_
from bot.aws.access import AwsAccess
from bot.aws.reader import Reader
from bot.snapshot import DestinationTarget, FunctionConfig, FunctionUrl, Gap, Snapshot


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
LATE_COLLECTORS: tuple[LateCollector, ...] = (cloudtrail.collect,)


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
    function = await lambda_.read_function(reader, ref)

    (
        resource_policy,
        mappings,
        urls,
        destinations,
        role,
        layers,
    ) = await asyncio.gather(
        lambda_.read_resource_policy(reader, ref),
        lambda_.read_event_source_mappings(reader, ref),
        reader_cached_urls(reader, ref),
        reader_cached_destinations(reader, ref, function),
        iam.read_role(reader, function.role_arn) if function.role_arn else _none(),
        lambda_.read_layer_policies(reader, function),
    )
    function.layers = layers
    snapshot = Snapshot(
        account=account,
        region=region,
        partition=ref.partition,
        requested_by=access.requested_by,
        function=function,
        resource_policy=resource_policy,
        role=role,
        event_source_mappings=mappings or [],
        function_urls=urls or [],
        destinations=destinations,
        window_start=window_start,
        window_end=window_end,
        scanned_triggers=scan_triggers,
    )
    snapshot.gaps = reader.gaps
    context = CollectContext(
        reader=reader,
        snapshot=snapshot,
        ref=ref,
        window_start=window_start,
        window_end=window_end,
        scan_triggers=scan_triggers,
    )
    for late in LATE_COLLECTORS if late_collectors is None else late_collectors:
        await late(context)
    return snapshot


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


async def reader_cached_urls(reader: Reader, ref: FunctionRef) -> list[FunctionUrl] | None:
    async def load() -> tuple[list[FunctionUrl] | None, list[Gap]]:
        child = reader.child()
        return await lambda_.read_function_urls(child, ref), child.gaps

    urls = await reader.cached(("lambda-urls", ref.arn), load)
    return None if urls is None else [u.model_copy() for u in urls]


async def reader_cached_destinations(
    reader: Reader, ref: FunctionRef, function: FunctionConfig
) -> list[DestinationTarget]:
    async def load() -> tuple[list[DestinationTarget], list[Gap]]:
        child = reader.child()
        return await lambda_.read_destinations(child, ref, function), child.gaps

    targets = await reader.cached(
        ("lambda-destinations", ref.arn, function.dead_letter_target), load
    )
    return [t.model_copy() for t in targets]


async def _none() -> None:
    return None
