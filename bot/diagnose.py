"""One diagnosis: collect a function's snapshot, then run the checks on it.

The only place that joins I/O (`bot.aws.collect`) and logic (`bot.checks`); the CLI, the
Slack worker and the demo call it.
"""

from __future__ import annotations

from datetime import timedelta

from bot.aws.access import AwsAccess
from bot.aws.collect import collect
from bot.checks import build_report
from bot.report import Report
from bot.snapshot import Snapshot

DEFAULT_SINCE = timedelta(hours=24)


async def diagnose(
    access: AwsAccess,
    function_ref: str,
    *,
    since: timedelta = DEFAULT_SINCE,
    scan_triggers: bool = False,
    fresh: bool = False,
) -> tuple[Snapshot, Report]:
    """Read everything about `function_ref` and diagnose it.

    `fresh` bypasses the access layer's read cache (a Rerun after a fix must see it).

    Raises `BadFunctionRef`, `FunctionNotFound`, `AccountNotAllowed` (bad input) or
    `AwsUnavailable` (AWS unreachable, no credentials); every other failed read is a gap.
    """
    snapshot = await collect(
        access, function_ref, since=since, scan_triggers=scan_triggers, fresh=fresh
    )
    return snapshot, build_report(snapshot)
