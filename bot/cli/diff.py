"""`lambda-why diff FAILING WORKING [--json] [--since DURATION]`.

Reads both functions (`bot.aws.collect`; a path to a saved snapshot JSON is read from
disk instead) and prints their differences, those that explain the failure first
(`bot.explain.diff`). Exit codes: 0 no difference explains a failure, 1 at least one
does, 2 bad input, 3 AWS could not be reached.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.aws.errors import AccountNotAllowed, AwsUnavailable, BadFunctionRef, FunctionNotFound
from bot.cli import EXIT_AWS, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, CliError
from bot.cli.check import parse_duration
from bot.explain.diff import FunctionDiff, compare
from bot.snapshot import Snapshot


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare a failing function with a working one",
        description="Compare a failing function with a working one: permissions, resource "
        "policy, features; the differences that explain the failure first.",
    )
    parser.add_argument(
        "failing", metavar="FAILING_ARN", help="the failing function (or snapshot file)"
    )
    parser.add_argument(
        "working", metavar="WORKING_ARN", help="the working function (or snapshot file)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--since", default="24h", help="window for logs and CloudTrail (default 24h)"
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    try:
        since = parse_duration(args.since)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    failing, working = await _load_pair(args.failing, args.working, since)
    result = compare(failing, working)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        print(render_text(result))
    return EXIT_FAIL if any(d.explains for d in result.differences) else EXIT_OK


async def _load_pair(failing: str, working: str, since: timedelta) -> tuple[Snapshot, Snapshot]:
    files = [_snapshot_file(failing), _snapshot_file(working)]
    if all(f is not None for f in files):
        return files[0], files[1]  # type: ignore[return-value]
    from bot.aws.access import AwsAccess
    from bot.aws.collect import collect
    from bot.config import ConfigError, load_config

    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    access = AwsAccess(settings, config)
    out: list[Snapshot] = []
    for ref, loaded in zip((failing, working), files, strict=True):
        if loaded is not None:
            out.append(loaded)
            continue
        try:
            out.append(await collect(access, ref, since=since))
        except (BadFunctionRef, FunctionNotFound, AccountNotAllowed) as exc:
            raise CliError(str(exc), EXIT_BAD_INPUT) from exc
        except AwsUnavailable as exc:
            raise CliError(str(exc), EXIT_AWS) from exc
    return out[0], out[1]


def _snapshot_file(value: str) -> Snapshot | None:
    if not value.endswith(".json"):
        return None
    path = Path(value)
    if not path.is_file():
        raise CliError(f"snapshot file {value} does not exist")
    try:
        return Snapshot.load(path)
    except (ValidationError, ValueError) as exc:
        raise CliError(f"snapshot file {value} is not a lambda-why snapshot") from exc


def render_text(result: FunctionDiff) -> str:
    lines = [f"failing: {result.failing}", f"working: {result.working}", ""]
    if not result.differences:
        lines.append("No differences found.")
    for diff in result.differences:
        mark = "!" if diff.explains else " "
        lines.append(f"{mark} [{diff.category}] {diff.item}")
        lines.append(f"    failing: {diff.failing}")
        lines.append(f"    working: {diff.working}")
        if diff.note:
            lines.append(f"    ({diff.note})")
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
