"""CloudTrail timeline, correlation with findings, and the denial pattern (pure).

- `timeline(snapshot)`: CONTRACTS §2 `events` — the CloudTrail events in the snapshot's window
  that bear on the function's permissions (denied calls by or to the function and its role,
  changes to the function, its resource policy, its role, the role's policies, its event
  source mappings and its KMS keys), newest first, each with a one-line summary.
- `correlate(findings, snapshot)`: a failing finding with a plausible cause in the timeline
  says so in `detail` ("Likely cause: alice (arn...) removed invoke permission ...
  (RemovePermission) at ... from ..."), in a last `CloudTrail ...` evidence line, and carries
  the events in `related_events`.
- `pattern(snapshot)` / `denial_span(snapshot)`: whether the function's denials look
  intermittent or continuous, with first/last seen (for the support bundle).

CloudTrail's Lambda event names carry API versions (`RemovePermission20150331v2`); they are
normalised to the plain API name (https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html).
"""

from __future__ import annotations

from bot.timeline.correlate import cause_text, correlate
from bot.timeline.events import (
    action_of,
    actor_label,
    bears_on,
    is_denial,
    is_function_session,
    is_role_session,
    neighbour_arns,
    normalise_name,
    relevant_events,
    service_prefix,
    session_name,
)
from bot.timeline.pattern import DenialSpan, PatternKind, denial_span, function_denials, pattern
from bot.timeline.summary import denied_resource, summarise, timeline, to_event

__all__ = [
    "DenialSpan",
    "PatternKind",
    "action_of",
    "actor_label",
    "bears_on",
    "cause_text",
    "correlate",
    "denial_span",
    "denied_resource",
    "function_denials",
    "is_denial",
    "is_function_session",
    "is_role_session",
    "neighbour_arns",
    "normalise_name",
    "pattern",
    "relevant_events",
    "service_prefix",
    "session_name",
    "summarise",
    "timeline",
    "to_event",
]
