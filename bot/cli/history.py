"""`lambda-why history FUNCTION [--since 7d] [--json]`: the CloudTrail timeline alone.

Reads only the function's configuration, its execution role and CloudTrail (no checks),
then prints the events that bear on the function's permissions, newest first: one line
each, or with `--json` one document `{"function", "since", "until", "events", "gaps"}`
(`events` as CONTRACTS §2). Exit codes as `check`: 0 done, 2 bad input, 3 AWS could not
be reached or no credentials. `--snapshot FILE` replays a saved snapshot offline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.arns import BadFunctionRef, parse_function_ref
from bot.cli import EXIT_AWS, EXIT_OK, CliError
from bot.cli.check import load_snapshot, parse_duration, snapshot_matches
from bot.report import Event, utc_iso
from bot.snapshot import Snapshot
from bot.timeline import denial_span, pattern, timeline


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "history",
        help="CloudTrail changes and denials that bear on a function's permissions",
        description=(
            "Show who changed the function, its resource policy, its execution role and "
            "the role's policies, and which calls by or to the function were denied, "
            "newest first (from CloudTrail event history). Exit 0: done; 2: bad input; "
            "3: AWS unreachable or no credentials."
        ),
    )
    parser.add_argument(
        "function",
        nargs="?",
        metavar="FUNCTION",
        help="function ARN (version/alias allowed), name, name:qualifier or console URL",
    )
    parser.add_argument(
        "--since",
        default=None,
        metavar="DURATION",
        help="how far back, e.g. 30m, 24h, 7d (default 24h, or a replayed snapshot's window; "
        "event history keeps 90 days)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--snapshot", metavar="FILE", help="replay a saved snapshot offline instead of AWS"
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    try:
        since = parse_duration(args.since or "24h")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.snapshot is not None:
        snapshot = load_snapshot(Path(args.snapshot))
        if args.function and not snapshot_matches(snapshot, args.function):
            raise CliError(
                f"{args.function} is not the function in {args.snapshot} "
                f"({snapshot.function.arn}); omit FUNCTION to replay it"
            )
        if args.since is not None:  # narrow the replayed window
            end = snapshot.window_end or snapshot.collected_at
            start = end - since
            if snapshot.window_start is None or start > snapshot.window_start:
                snapshot.window_start = start
            snapshot.window_end = end
    else:
        if not args.function:
            raise CliError("FUNCTION is required (a function ARN or name), or --snapshot FILE")
        try:
            parse_function_ref(args.function)
        except BadFunctionRef as exc:
            raise CliError(str(exc)) from exc
        snapshot = await _collect_live(args.function, since)
    events = timeline(snapshot)
    if args.json:
        sys.stdout.write(json.dumps(history_document(snapshot, events), indent=2) + "\n")
    else:
        sys.stdout.write(render_history(snapshot, events))
    sys.stdout.flush()
    return EXIT_OK


def history_document(snapshot: Snapshot, events: list[Event]) -> dict[str, Any]:
    fn = snapshot.function
    return {
        "function": f"{fn.arn}:{fn.qualifier}" if fn.qualifier else fn.arn,
        "since": utc_iso(snapshot.window_start) if snapshot.window_start else None,
        "until": utc_iso(snapshot.window_end) if snapshot.window_end else None,
        "events": [e.model_dump(mode="json") for e in events],
        "gaps": [g.model_dump(mode="json") for g in snapshot.gaps],
    }


def event_line(event: Event) -> str:
    """`2026-11-28T01:12:09Z  RemovePermission  arn:...  from 203.0.113.5  summary  [error]`."""
    parts = [utc_iso(event.time), event.event, event.actor or "?"]
    if event.source_ip:
        parts.append(f"from {event.source_ip}")
    if event.summary:
        parts.append(event.summary)
    if event.error:
        parts.append(f"[{event.error}]")
    return "  ".join(parts)


def render_history(snapshot: Snapshot, events: list[Event]) -> str:
    fn = snapshot.function
    window = ""
    if snapshot.window_start and snapshot.window_end:
        window = f" from {utc_iso(snapshot.window_start)} to {utc_iso(snapshot.window_end)}"
    out = [f"lambda-why history {fn.arn}{window}"]
    if snapshot.cloudtrail is None:
        out.append("CloudTrail was not read.")
    elif not events:
        out.append("No CloudTrail events bearing on the function's permissions.")
    out.extend(event_line(e) for e in events)
    span = denial_span(snapshot)
    if span is not None:
        kind = pattern(snapshot)
        out.append(
            f"denials: {span.count}, first {utc_iso(span.first_seen)}, last "
            f"{utc_iso(span.last_seen)}" + (f" ({kind})" if kind != "unknown" else "")
        )
    for gap in snapshot.gaps:
        where = f" {gap.resource}" if gap.resource else ""
        out.append(f"not read: {gap.operation}{where}: {gap.error}")
    return "\n".join(out) + "\n"


async def _collect_live(function: str, since: timedelta) -> Snapshot:
    """Composition root: settings, AWS access, function + role + CloudTrail."""
    from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError

    from bot.aws.access import AwsAccess
    from bot.aws.cloudtrail import collect_history
    from bot.aws.errors import AccountNotAllowed, AwsUnavailable, FunctionNotFound
    from bot.config import ConfigError, load_config

    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    access = AwsAccess(settings, config, requested_by=os.environ.get("USER"))
    try:
        return await collect_history(access, function, since=since)
    except (BadFunctionRef, FunctionNotFound, AccountNotAllowed) as exc:
        raise CliError(str(exc)) from exc
    except AwsUnavailable as exc:
        raise CliError(str(exc), EXIT_AWS) from exc
    except NoRegionError as exc:
        raise CliError(
            "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or pass a function ARN",
            EXIT_AWS,
        ) from exc
    except NoCredentialsError as exc:
        raise CliError(f"no AWS credentials: {exc}", EXIT_AWS) from exc
    except BotoCoreError as exc:
        raise CliError(f"AWS could not be reached: {exc}", EXIT_AWS) from exc
