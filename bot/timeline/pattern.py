"""Intermittent or continuous: when the function's denials were seen (pure)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.snapshot import CloudTrailEvent, Snapshot
from bot.timeline.events import (
    action_of,
    in_window,
    is_denial,
    is_function_session,
    relevant_events,
)

PatternKind = Literal["intermittent", "continuous", "unknown"]


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
        if is_denial(e) and is_function_session(e, snapshot) and in_window(e.time, snapshot)
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
