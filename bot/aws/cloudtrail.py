"""CloudTrail collector: `cloudtrail:LookupEvents` for the function, its role, policies and keys.

Event history (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html)
takes ONE lookup attribute per call, returns at most 50 events a page and allows about
2 calls a second per account and region. IAM is a global service: its events are recorded
in us-east-1 (cn-north-1, us-gov-west-1 in the other partitions), so role and policy lookups
go there; everything else goes to the function's region.

What is asked (see `plan_lookups`, and docs/cloudtrail.md for the table):

- ResourceName = the function's name, unqualified ARN and qualified ARN: changes to the
  function and its resource policy, and denied calls to it;
- Username = the function's name: calls made by the function's code (Lambda names the
  execution role session after the function);
- EventName = CreateNetworkInterface (VPC functions only): Lambda's own calls with the role
  run in `awslambda_…` sessions that cannot be looked up by name, so they are found by event
  name and kept only when the caller is a session of the execution role;
- ResourceName = the role name (global region and the function's), the role ARN (Lambda's
  sts:AssumeRole), the role's customer managed policy and boundary ARNs, the KMS keys, and
  the event sources, destinations, triggers, secrets, image repository and assumed roles;
- last, best effort (kept only when they bear on the function; failure or truncation is not
  a gap): EventName = RemovePermission / UpdateFunctionConfiguration (versioned names), and
  each region's most recent events without an attribute.

Partial reads: every lookup that fails (AccessDenied, throttled beyond retries, endpoint
unreachable) becomes one `Gap(operation="cloudtrail:LookupEvents", resource="<attribute>=<value>
@<region>")` (when the first lookup of a region fails, the region's others are skipped and
that gap says so); a lookup cut at `max_pages` with more pages left becomes a gap whose
error starts with "Truncated". The events of the lookups that succeeded are kept, so
`snapshot.cloudtrail` is always a list once CloudTrail was asked (possibly partial: look for
the gaps), and None only when it was not asked at all.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import AwsUnavailable
from bot.snapshot import REDACTED, CloudTrailEvent, Gap, Snapshot
from bot.timeline import bears_on as bears_on_function
from bot.timeline import is_role_session, neighbour_arns

if TYPE_CHECKING:
    from bot.aws.access import AwsAccess
    from bot.aws.collect import CollectContext

OPERATION = "cloudtrail:LookupEvents"
#: Event history keeps 90 days.
HISTORY_DAYS = 90
PAGE_SIZE = 50
DEFAULT_MAX_PAGES = 5
#: pages of the attribute-less sweep of a region's recent events
SWEEP_PAGES = 2
#: Lambda changes also looked up by event name (best effort)
SWEPT_EVENTS = ("RemovePermission20150331v2", "UpdateFunctionConfiguration20150331v2")
#: LookupEvents allows ~2 TPS per account and region.
DEFAULT_CONCURRENCY = 2
THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
#: botocore retry configuration for CloudTrail clients (adaptive: client-side rate limiting).
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 4})
#: Where each partition records global (IAM) events.
GLOBAL_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
MAX_POLICY_LOOKUPS = 10
MAX_KEY_LOOKUPS = 5
MAX_NEIGHBOUR_LOOKUPS = 3

Attribute = Literal["ResourceName", "Username", "EventName", "EventSource"]
#: which events of a lookup are kept ("org-changes": those that bear on the function, from
#: the management account; unlike the best-effort "bears-on-function" its failure is a gap)
Keep = Literal["changes-and-errors", "role-sessions", "bears-on-function", "org-changes"]
#: Organizations events: recorded in the management account, in the partition's global region
ORG_EVENT_SOURCE = "organizations.amazonaws.com"
ClientFactory = Callable[[str], Any]  # region -> boto3 CloudTrail client
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Lookup:
    """One LookupEvents query: one attribute, one region."""

    #: None: no attribute, the region's recent events (a best-effort sweep)
    attribute: Attribute | None
    value: str
    region: str
    keep: Keep = "changes-and-errors"
    #: for `role-sessions`: the execution role ARN whose sessions are kept
    role_arn: str | None = None
    session_names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.attribute is None:
            return f"recent@{self.region}"
        return f"{self.attribute}={self.value}@{self.region}"

    @property
    def sweep(self) -> bool:
        """A best-effort sweep (kept when it bears on the function): its failure or
        truncation is not a gap."""
        return self.keep == "bears-on-function"


@dataclass
class LookupResult:
    events: list[CloudTrailEvent] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def cloudtrail_client_config() -> Config:
    """The botocore Config every CloudTrail client should be built with."""
    return RETRY_CONFIG


def global_region(partition: str, region: str) -> str:
    return GLOBAL_REGION.get(partition, region)


def plan_lookups(snapshot: Snapshot) -> list[Lookup]:
    """The LookupEvents queries for one function (see the module docstring)."""
    fn = snapshot.function
    region = snapshot.region
    iam_region = global_region(snapshot.partition, region)
    role_arn = fn.role_arn
    role_name = snapshot.role.name if snapshot.role else role_arn.rsplit("/", 1)[-1]
    lookups: list[Lookup] = [
        Lookup("ResourceName", fn.name, region),
        Lookup("ResourceName", fn.arn, region),
    ]
    if fn.qualifier:
        lookups.append(Lookup("ResourceName", f"{fn.arn}:{fn.qualifier}", region))
    lookups.append(
        Lookup(
            "Username",
            fn.name,
            region,
            keep="role-sessions",
            role_arn=role_arn,
            session_names=(fn.name,),
        )
    )
    if fn.vpc is not None and fn.vpc.subnet_ids:
        lookups.append(
            Lookup(
                "EventName",
                "CreateNetworkInterface",
                region,
                keep="role-sessions",
                role_arn=role_arn,
                session_names=(fn.name, "awslambda_*"),
            )
        )
    lookups.append(Lookup("ResourceName", role_name, iam_region))
    # sts:AssumeRole of the role by lambda.amazonaws.com (denied when the trust is broken)
    # is a regional STS event naming the role ARN
    lookups.append(Lookup("ResourceName", role_arn, region))
    if iam_region != region:
        # IAM records in the global region; a copy in the function's region costs one call
        # and covers endpoints (and older trails) that keep IAM events where they were made
        lookups.append(Lookup("ResourceName", role_name, region))
    policy_arns: list[str] = []
    if snapshot.role is not None:
        policy_arns = [p.arn for p in snapshot.role.attached_policies if p.arn]
        if snapshot.role.boundary is not None and snapshot.role.boundary.arn:
            policy_arns.append(snapshot.role.boundary.arn)
    customer = [a for a in dict.fromkeys(policy_arns) if ":iam::aws:policy/" not in a]
    lookups.extend(Lookup("ResourceName", a, iam_region) for a in customer[:MAX_POLICY_LOOKUPS])
    keys = list(dict.fromkeys([k for k in [fn.kms_key_arn, *snapshot.kms_keys] if k]))
    for key in keys[:MAX_KEY_LOOKUPS]:
        parts = key.split(":")
        key_region = parts[3] if len(parts) > 5 and parts[3] else region
        lookups.append(Lookup("ResourceName", key, key_region))
    # resource policy changes of the event sources, destinations, triggers and secrets
    for arn in neighbour_arns(snapshot)[:MAX_NEIGHBOUR_LOOKUPS]:
        parts = arn.split(":")
        if parts[2] == "iam":  # a role the code assumes: global, looked up by name
            lookups.append(Lookup("ResourceName", arn.rsplit("/", 1)[-1], iam_region))
        else:
            lookups.append(Lookup("ResourceName", arn, parts[3] or region))
    # last: the most recent events of the regions, for whatever the indexed lookups miss
    # (resource names event history does not index); kept only when they bear on the function
    # the changes that break functions most often, by event name (whatever their resource
    # names look like in event history)
    lookups.extend(
        Lookup("EventName", name, region, keep="bears-on-function") for name in SWEPT_EVENTS
    )
    for sweep_region in dict.fromkeys([region, iam_region]):
        lookups.append(Lookup(None, "", sweep_region, keep="bears-on-function"))
    return lookups


def org_lookup(snapshot: Snapshot) -> Lookup | None:
    """The management account's Organizations events (SCP/RCP changes), when SCPs or RCPs
    were read for the function's account."""
    org = snapshot.organization
    if org is None or not org.path or (org.scp is None and org.rcp is None):
        return None
    region = global_region(snapshot.partition, snapshot.region)
    return Lookup("EventSource", ORG_EVENT_SOURCE, region, keep="org-changes")


def history_window(
    start: datetime | None, end: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The window to ask for, clamped to event history's 90 days."""
    now = now or datetime.now(UTC)
    end = end or now
    start = start or end - timedelta(hours=24)
    oldest = now - timedelta(days=HISTORY_DAYS)
    return max(start, oldest), end


async def collect(context: CollectContext) -> None:
    """Late collector for `bot.aws.collect`: CloudTrail for the assembled snapshot."""
    reader = context.reader
    snapshot = context.snapshot
    try:
        factory = reader.access.client_factory(
            "cloudtrail", account=reader.account, config=cloudtrail_client_config()
        )
    except AwsUnavailable as exc:
        snapshot.cloudtrail = []
        reader.gap(OPERATION, None, f"AwsUnavailable: {exc}")
        return
    if snapshot.window_start is None:
        snapshot.window_start = context.window_start
    if snapshot.window_end is None:
        snapshot.window_end = context.window_end
    try:
        gaps = await collect_cloudtrail(snapshot, factory, record_gaps=False)
    except Exception as exc:  # CloudTrail is evidence: a fault here must not end the diagnosis
        snapshot.cloudtrail = None
        reader.gap(OPERATION, None, f"{type(exc).__name__}: {exc}")
        return
    for gap in gaps:
        reader.gap(gap.operation, gap.resource, gap.error)
    lookup = org_lookup(snapshot)
    if lookup is not None:
        await _collect_org_changes(context, lookup)


async def _collect_org_changes(context: CollectContext, lookup: Lookup) -> None:
    """SCP/RCP changes from the management account's event history, through the
    `[organization]` reader role (which needs cloudtrail:LookupEvents for this; without it
    the read is a gap and the rest of the diagnosis is unchanged)."""
    reader, snapshot = context.reader, context.snapshot
    management = snapshot.organization.management_account if snapshot.organization else None
    label = f"{lookup.label} (management account {management or 'unknown'})"
    try:
        client = await reader.access.org_client(
            "cloudtrail", region=lookup.region, config=cloudtrail_client_config()
        )
    except AwsUnavailable as exc:
        reader.gap(OPERATION, label, f"AwsUnavailable: {exc}")
        return
    start, end = history_window(snapshot.window_start, snapshot.window_end)
    result = await lookup_events(
        lambda _region: client, [lookup], start, end, bears_on=bears_on_function(snapshot)
    )
    for gap in result.gaps:
        reader.gap(gap.operation, label, gap.error)
    known = {e.event_id for e in snapshot.cloudtrail or []}
    merged = [*(snapshot.cloudtrail or []), *(e for e in result.events if e.event_id not in known)]
    snapshot.cloudtrail = sorted(merged, key=lambda e: e.time, reverse=True)


async def collect_cloudtrail(
    snapshot: Snapshot,
    client_for_region: ClientFactory,
    *,
    since: timedelta | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    concurrency: int = DEFAULT_CONCURRENCY,
    sleep: Sleep = asyncio.sleep,
    record_gaps: bool = True,
) -> list[Gap]:
    """Fill `snapshot.cloudtrail` for the snapshot's window; return the gaps (also added to
    `snapshot.gaps` unless `record_gaps` is False).

    The window is `snapshot.window_start/end` when set (else the last `since`, default 24h,
    written back), clamped to event history's 90 days for the lookups.
    """
    end = snapshot.window_end or datetime.now(UTC)
    start = snapshot.window_start or end - (since or timedelta(hours=24))
    if snapshot.window_start is None or snapshot.window_end is None:
        snapshot.window_start, snapshot.window_end = start, end
    start, end = history_window(start, end)
    result = await lookup_events(
        client_for_region,
        plan_lookups(snapshot),
        start,
        end,
        max_pages=max_pages,
        concurrency=concurrency,
        sleep=sleep,
        bears_on=bears_on_function(snapshot),
    )
    snapshot.cloudtrail = result.events
    if record_gaps:
        snapshot.gaps.extend(result.gaps)
    return result.gaps


async def lookup_events(
    client_for_region: ClientFactory,
    lookups: Iterable[Lookup],
    start: datetime,
    end: datetime,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
    concurrency: int = DEFAULT_CONCURRENCY,
    throttle_retries: int = 3,
    sleep: Sleep = asyncio.sleep,
    bears_on: Callable[[CloudTrailEvent], bool] | None = None,
) -> LookupResult:
    """Run the lookups, newest event first, deduplicated by event id.

    Regions run in parallel; within a region the first lookup runs alone, then the rest
    with bounded concurrency. A lookup that fails becomes a gap and the others' events are
    still returned; when the first lookup of a region fails (LookupEvents has no
    resource-level permissions, so AccessDenied, an unreachable endpoint or throttling
    beyond retries would fail them all), the region's other lookups are skipped and the
    one gap says so.
    """
    by_region: dict[str, list[Lookup]] = {}
    for lookup in dict.fromkeys(lookups):
        by_region.setdefault(lookup.region, []).append(lookup)

    async def region_run(region: str, todo: list[Lookup]) -> list[_Outcome]:
        try:
            client = await asyncio.to_thread(client_for_region, region)
        except Exception as exc:  # a client that cannot be built is a gap, like a failed read
            return [_Outcome([], _gap(todo[0], _describe(exc), skipped=len(todo) - 1), True)]

        async def run(lookup: Lookup) -> _Outcome:
            return await _run_lookup(
                client,
                lookup,
                start=start,
                end=end,
                max_pages=min(max_pages, SWEEP_PAGES) if lookup.sweep else max_pages,
                throttle_retries=throttle_retries,
                sleep=sleep,
                bears_on=bears_on,
            )

        first = await run(todo[0])
        if first.failed:
            if len(todo) > 1 and first.gap is not None:
                first.gap = _gap(todo[0], first.gap.error, skipped=len(todo) - 1)
            return [first]
        sem = asyncio.Semaphore(max(1, concurrency))

        async def bounded(lookup: Lookup) -> _Outcome:
            async with sem:
                return await run(lookup)

        rest = await asyncio.gather(*(bounded(lookup) for lookup in todo[1:]))
        return [first, *rest]

    per_region = await asyncio.gather(*(region_run(r, t) for r, t in by_region.items()))
    result = LookupResult()
    seen: set[str] = set()
    for outcomes in per_region:
        for outcome in outcomes:
            if outcome.gap is not None and not outcome.sweep:
                result.gaps.append(outcome.gap)
            for event in outcome.events:
                if event.event_id not in seen:
                    seen.add(event.event_id)
                    result.events.append(event)
    result.events.sort(key=lambda e: e.time, reverse=True)
    return result


@dataclass
class _Outcome:
    events: list[CloudTrailEvent]
    gap: Gap | None = None
    #: the lookup failed (not merely truncated)
    failed: bool = False
    sweep: bool = False


def _gap(lookup: Lookup, error: str, *, skipped: int = 0) -> Gap:
    if skipped:
        error += f" (the other {skipped} lookups in {lookup.region} were skipped)"
    return Gap(operation=OPERATION, resource=lookup.label, error=error)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return _error(exc)
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def _run_lookup(
    client: Any,
    lookup: Lookup,
    *,
    start: datetime,
    end: datetime,
    max_pages: int,
    throttle_retries: int,
    sleep: Sleep,
    bears_on: Callable[[CloudTrailEvent], bool] | None = None,
) -> _Outcome:
    kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end, "MaxResults": PAGE_SIZE}
    if lookup.attribute is not None:
        kwargs["LookupAttributes"] = [
            {"AttributeKey": lookup.attribute, "AttributeValue": lookup.value}
        ]
    events: list[CloudTrailEvent] = []
    for _page in range(max_pages):
        try:
            page = await _call_with_backoff(client, kwargs, throttle_retries, sleep)
        except Exception as exc:  # every failure of the read becomes a gap (moto raises
            # NotImplementedError in-process; endpoints may be unreachable)
            return _Outcome(events, _gap(lookup, _describe(exc)), failed=True, sweep=lookup.sweep)
        for item in page.get("Events") or []:
            event = parse_lookup_event(item)
            if event is not None and _keep(event, lookup, bears_on):
                events.append(event)
        token = page.get("NextToken")
        if not token:
            return _Outcome(events, sweep=lookup.sweep)
        kwargs["NextToken"] = token
    return _Outcome(
        events,
        _gap(
            lookup,
            f"Truncated after {max_pages} pages ({max_pages * PAGE_SIZE} events); "
            "older events in the window were not read",
        ),
        sweep=lookup.sweep,
    )


async def _call_with_backoff(
    client: Any, kwargs: dict[str, Any], retries: int, sleep: Sleep
) -> dict[str, Any]:
    """One LookupEvents call; throttling that outlived botocore's retries is retried here."""
    delay = 1.0
    for attempt in range(retries + 1):
        try:
            page: dict[str, Any] = await asyncio.to_thread(client.lookup_events, **kwargs)
            return page
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in THROTTLE_CODES or attempt == retries:
                raise
        await sleep(delay + random.uniform(0, delay / 2))
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


_TAG = re.compile(r"<[^>]+>")
#: longest error message kept in a gap
MAX_MESSAGE = 300


def _error(exc: ClientError) -> str:
    """`Code: message`; an HTML error page (an endpoint without LookupEvents) becomes its text."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Error")
    message = str(error.get("Message") or "")
    if "<" in message and ">" in message:
        message = " ".join(dict.fromkeys(_TAG.sub("\n", message).split("\n")))
    message = " ".join(message.split())[:MAX_MESSAGE]
    return f"{code}: {message}" if message else code


# -- parsing ---------------------------------------------------------------------------------

#: keys whose values never leave the collector
_SECRET_KEYS = frozenset({"password", "secretstring", "secretbinary", "privatekey", "plaintext"})


def parse_lookup_event(item: Mapping[str, Any]) -> CloudTrailEvent | None:
    """One `Events[]` entry of LookupEvents → `CloudTrailEvent` (None when it has no id)."""
    raw: dict[str, Any] = {}
    text = item.get("CloudTrailEvent")
    if isinstance(text, str) and text:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, dict):
            raw = redact(loaded)
    event_id = raw.get("eventID") or item.get("EventId")
    if not event_id:
        return None
    identity = raw.get("userIdentity") or {}
    actor = identity.get("arn") if isinstance(identity, dict) else None
    if not actor and isinstance(identity, dict):
        actor = identity.get("invokedBy") or identity.get("principalId")
    time = _parse_time(raw.get("eventTime")) or _parse_time(item.get("EventTime"))
    if time is None:
        return None
    resources: list[str] = []
    for res in raw.get("resources") or []:
        if isinstance(res, dict) and res.get("ARN"):
            resources.append(str(res["ARN"]))
    for res in item.get("Resources") or []:
        if isinstance(res, dict) and res.get("ResourceName"):
            resources.append(str(res["ResourceName"]))
    if "readOnly" not in raw and "ReadOnly" in item:
        raw["readOnly"] = str(item["ReadOnly"]).lower() == "true"
    params = raw.get("requestParameters")
    return CloudTrailEvent(
        event_id=str(event_id),
        time=time,
        name=str(raw.get("eventName") or item.get("EventName") or ""),
        source=str(raw.get("eventSource") or item.get("EventSource") or ""),
        actor=str(actor) if actor else None,
        source_ip=_opt_str(raw.get("sourceIPAddress")),
        user_agent=_opt_str(raw.get("userAgent")),
        error_code=_opt_str(raw.get("errorCode")),
        error_message=_opt_str(raw.get("errorMessage")),
        resources=list(dict.fromkeys(resources)),
        request_parameters=params if isinstance(params, dict) else None,
        raw=raw,
    )


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def redact(value: Any, parent: str = "") -> Any:
    """A copy with environment variable values and secret-looking values replaced."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered == "variables" and parent == "environment":
                out[key] = dict.fromkeys(item, REDACTED) if isinstance(item, dict) else REDACTED
            elif lowered in _SECRET_KEYS and item is not None:
                out[key] = REDACTED
            else:
                out[key] = redact(item, lowered)
        return out
    if isinstance(value, list):
        return [redact(item, parent) for item in value]
    return value


# -- which events a lookup keeps ---------------------------------------------------------------


def _keep(
    event: CloudTrailEvent,
    lookup: Lookup,
    bears_on: Callable[[CloudTrailEvent], bool] | None = None,
) -> bool:
    if lookup.keep == "role-sessions":
        return lookup.role_arn is not None and is_role_session(
            event, lookup.role_arn, lookup.session_names
        )
    if lookup.keep in ("bears-on-function", "org-changes"):
        return bears_on is not None and bears_on(event)
    read_only = event.raw.get("readOnly")
    # writes, errors, and the function's own calls (successes show denials were intermittent)
    return (
        bool(event.error_code)
        or read_only is not True
        or (bears_on is not None and bears_on(event))
    )


# -- `lambda-why history`: the function, its role and CloudTrail only -------------------------


async def collect_history(
    access: AwsAccess, function_ref: str, *, since: timedelta = timedelta(hours=24)
) -> Snapshot:
    """A snapshot with just what the timeline needs: GetFunction, the role, the SCP/RCP
    path (with `[organization]`), CloudTrail.

    Raises like `bot.aws.collect.collect` (BadFunctionRef, AccountNotAllowed,
    FunctionNotFound, AwsUnavailable); failed reads after GetFunction are gaps.
    """
    from bot.aws import iam, lambda_, organizations
    from bot.aws.collect import CollectContext, resolve_ref
    from bot.aws.reader import Reader

    ref = await resolve_ref(access, function_ref)
    account, region = ref.account or "", ref.region or ""
    await access.ensure_allowed(account)
    window_end = datetime.now(UTC)
    window_start = window_end - since
    reader = Reader(access, account=account, region=region, partition=ref.partition)
    function = await lambda_.read_function(reader, ref)
    role = await iam.read_role(reader, function.role_arn) if function.role_arn else None
    # with [organization]: the SCP/RCP path, so that changes to it are part of the history
    organization = await organizations.read_org_policies(reader, account)
    snapshot = Snapshot(
        account=account,
        region=region,
        partition=ref.partition,
        requested_by=access.requested_by,
        function=function,
        role=role,
        organization=organization,
        window_start=window_start,
        window_end=window_end,
    )
    snapshot.gaps = reader.gaps
    await collect(
        CollectContext(
            reader=reader,
            snapshot=snapshot,
            ref=ref,
            window_start=window_start,
            window_end=window_end,
        )
    )
    return snapshot
