"""CloudWatch Logs collector: the function's access errors (and context) in the window.

Reads the function's log group — `/aws/lambda/<name>`, or the custom group of its
`LoggingConfig` — with `logs:FilterLogEvents` over the `--since` window:

1. the access errors, with a filter pattern matching any of the terms AWS and the SDKs
   print (`?AccessDenied ?"not authorized" ?UnauthorizedOperation ?KMSAccessDenied ...`);
2. the most recent lines of the window (unfiltered) as context for the support bundle.

Both reads are bounded (`MAX_ERROR_LINES`, `MAX_CONTEXT_LINES`); the lines are merged,
deduplicated and sorted by time into `snapshot.logs`. A failed read is a `Gap`
(`logs:FilterLogEvents` on the log group); a missing log group is not (no lines).

https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.snapshot import LogLine

if TYPE_CHECKING:
    from bot.aws.collect import CollectContext
    from bot.aws.reader import Reader

#: terms of access errors in log lines; `?` makes the pattern match any of them
ACCESS_TERMS = (
    "AccessDenied",
    "AccessDeniedException",
    '"not authorized"',
    '"Not authorized"',
    "UnauthorizedOperation",
    "KMSAccessDeniedException",
    '"Access Denied"',
    "AuthorizationError",
    "AuthorizationErrorException",
    '"does not have permission"',
    '"does not have permissions"',
    "Forbidden",
)
FILTER_PATTERN = " ".join(f"?{term}" for term in ACCESS_TERMS)
MAX_ERROR_LINES = 500
MAX_CONTEXT_LINES = 200
#: the unfiltered context read covers the last part of the window only
CONTEXT_SPAN = timedelta(minutes=30)
#: a single log line is cut to this many characters
MAX_LINE_CHARS = 4000


def log_group_of(ctx: CollectContext) -> str:
    return ctx.snapshot.function.logging.log_group


async def collect(ctx: CollectContext) -> None:
    """Late collector: fill `snapshot.logs` (see the module docstring)."""
    group = log_group_of(ctx)
    start, end = ctx.window_start, ctx.window_end
    lines = await read_log_lines(ctx.reader, group, start, end)
    ctx.snapshot.logs = lines


async def read_log_lines(
    reader: Reader, group: str, start: datetime, end: datetime
) -> list[LogLine]:
    """Access-error lines of the window plus the latest context lines, sorted, unique."""
    errors = await reader.pages(
        "logs",
        "FilterLogEvents",
        "events",
        resource=group,
        missing=("ResourceNotFoundException",),
        max_items=MAX_ERROR_LINES,
        logGroupName=group,
        startTime=_ms(start),
        endTime=_ms(end),
        filterPattern=FILTER_PATTERN,
    )
    if errors is None:
        return []
    context_start = max(start, end - CONTEXT_SPAN)
    context = await reader.pages(
        "logs",
        "FilterLogEvents",
        "events",
        resource=group,
        missing=("ResourceNotFoundException",),
        max_items=MAX_CONTEXT_LINES,
        logGroupName=group,
        startTime=_ms(context_start),
        endTime=_ms(end),
    )
    return merge_lines([*errors, *(context or [])])


def merge_lines(events: Iterable[Mapping[str, Any]]) -> list[LogLine]:
    """FilterLogEvents events → LogLines, deduplicated and sorted by time."""
    seen: set[tuple[int, str | None, str]] = set()
    out: list[LogLine] = []
    for event in events:
        stamp = int(event.get("timestamp") or 0)
        stream = event.get("logStreamName")
        message = str(event.get("message") or "").rstrip("\n")[:MAX_LINE_CHARS]
        key = (stamp, stream, message)
        if key in seen or not message:
            continue
        seen.add(key)
        out.append(
            LogLine(
                time=datetime.fromtimestamp(stamp / 1000, tz=UTC), stream=stream, message=message
            )
        )
    out.sort(key=lambda line: (line.time, line.stream or "", line.message))
    return out


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)
