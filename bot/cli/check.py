"""`lambda-why check FUNCTION`: diagnose one function (CONTRACTS §2).

Exit codes: 0 no `fail`, 1 at least one `fail`, 2 bad input (not a function reference,
unknown function, account not allowed, unreadable snapshot, bad --since), 3 AWS could not
be reached or no credentials.

`--snapshot FILE` replays a saved snapshot offline (no AWS): FUNCTION may then be omitted;
when given, it must name the snapshot's function (name or ARN, qualifier included if any).

Triggers are scanned by default (every S3 bucket and API Gateway API of the region, capped
by the collectors): an S3 bucket or API whose permission names another source can only be
found that way. `--no-scan-triggers` follows only the function's own configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from bot.arns import BadFunctionRef, parse_function_ref
from bot.checks import build_report
from bot.cli import EXIT_AWS, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, CliError
from bot.render import render_report, use_color
from bot.report import Report
from bot.snapshot import Snapshot

#: units largest first, each at most once: `2d`, `1h30m`, `1w2d`
_DURATION = re.compile("".join(rf"(?:(\d{{1,12}}){unit})?" for unit in "wdhms"))
_UNIT_SECONDS = (604800, 86400, 3600, 60, 1)
#: the longest window: log retention can be years; CloudTrail event history keeps 90 days
MAX_SINCE = timedelta(days=3650)
_DURATION_HELP = "use a number and a unit (s, m, h, d, w), e.g. 30m, 24h, 7d, 1h30m"


def parse_duration(text: str) -> timedelta:
    """`30m`, `24h`, `7d`, `1h30m`, `90s`, `2w` (case-insensitive); raises ValueError with
    a one-line reason otherwise."""
    value = text.strip().lower()
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise ValueError(f"invalid duration {shown}: {_DURATION_HELP}")
    seconds = sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)
    if seconds <= 0:
        raise ValueError(f"invalid duration {shown}: must be greater than zero")
    if seconds > MAX_SINCE.total_seconds():
        raise ValueError(f"invalid duration {shown}: at most {MAX_SINCE.days}d")
    return timedelta(seconds=seconds)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="diagnose why a Lambda function is denied",
        description=(
            "Read a function's configuration, execution role, resource policy, triggers, "
            "event source mappings, keys and CloudTrail, evaluate them and report findings "
            "with fixes. Exit 0: no fail; 1: at least one fail; 2: bad input; 3: AWS "
            "unreachable or no credentials."
        ),
    )
    parser.add_argument(
        "function",
        nargs="?",
        metavar="FUNCTION",
        help="function ARN (version/alias allowed), name, name:qualifier or console URL",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report only")
    parser.add_argument(
        "--since",
        default="24h",
        metavar="DURATION",
        help="CloudTrail/log window, e.g. 30m, 24h, 7d, 1h30m (default 24h)",
    )
    parser.add_argument(
        "--save-snapshot", type=Path, metavar="FILE", help="write what was read to FILE"
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        metavar="FILE",
        help="replay a saved snapshot offline instead of reading AWS",
    )
    scan = parser.add_mutually_exclusive_group()
    scan.add_argument(
        "--scan-triggers",
        dest="scan_triggers",
        action="store_true",
        default=True,
        help=(
            "scan every S3 bucket and API Gateway API of the region for triggers of the "
            "function (the default: a trigger whose permission names another source is only "
            "found this way)"
        ),
    )
    scan.add_argument(
        "--no-scan-triggers",
        dest="scan_triggers",
        action="store_false",
        help="only follow the function's own configuration (faster in large accounts)",
    )
    from bot.cli.questions import add_arguments as add_question_arguments

    add_question_arguments(parser)
    parser.set_defaults(handler=run)


def load_snapshot(path: Path) -> Snapshot:
    try:
        return Snapshot.load(path)
    except OSError as exc:
        raise CliError(f"cannot read snapshot {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"snapshot {path} is not a lambda-why snapshot: not UTF-8 text") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise CliError(
            f"snapshot {path} is not a lambda-why snapshot: {where}: {first['msg']}"
        ) from exc


def snapshot_matches(snapshot: Snapshot, function: str) -> bool:
    """Does FUNCTION name the snapshot's function?"""
    try:
        ref = parse_function_ref(function)
    except BadFunctionRef as exc:
        raise CliError(str(exc)) from exc
    fn = snapshot.function
    if ref.name != fn.name:
        return False
    if ref.account is not None and ref.account != snapshot.account:
        return False
    if ref.region is not None and ref.region != snapshot.region:
        return False
    return ref.qualifier is None or ref.qualifier == fn.qualifier


async def run(args: argparse.Namespace) -> int:
    try:
        since = parse_duration(args.since)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.snapshot is not None:
        snapshot = load_snapshot(args.snapshot)
        if args.function and not snapshot_matches(snapshot, args.function):
            raise CliError(
                f"{args.function} is not the function in {args.snapshot} "
                f"({snapshot.function.arn}); omit FUNCTION to replay it"
            )
        report = build_report(snapshot)
    else:
        if not args.function:
            raise CliError("FUNCTION is required (a function ARN or name), or --snapshot FILE")
        try:
            parse_function_ref(args.function)
        except BadFunctionRef as exc:
            raise CliError(str(exc)) from exc
        snapshot, report = await _diagnose_live(args.function, since, args.scan_triggers)
    if args.save_snapshot is not None:
        try:
            snapshot.dump(args.save_snapshot)
        except OSError as exc:
            raise CliError(
                f"cannot write snapshot {args.save_snapshot}: {exc.strerror or exc}"
            ) from exc
    from bot.cli.questions import answer_questions, wants_questions

    if wants_questions(args):
        report = await answer_questions(report, snapshot, args)
    _print(report, as_json=args.json)
    return EXIT_FAIL if report.failed else EXIT_OK


async def _diagnose_live(
    function: str, since: timedelta, scan_triggers: bool
) -> tuple[Snapshot, Report]:
    """Composition root: settings, AWS access, collect + checks."""
    from botocore.exceptions import NoCredentialsError, NoRegionError

    from bot.aws.access import AwsAccess, describe
    from bot.aws.errors import TRANSPORT_ERRORS, AccountNotAllowed, AwsUnavailable, FunctionNotFound
    from bot.config import ConfigError, load_config
    from bot.diagnose import diagnose

    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    access = AwsAccess(settings, config, requested_by=os.environ.get("USER"))
    try:
        return await diagnose(access, function, since=since, scan_triggers=scan_triggers)
    except (BadFunctionRef, FunctionNotFound, AccountNotAllowed) as exc:
        raise CliError(_one_line(exc)) from exc
    except AwsUnavailable as exc:
        raise CliError(_one_line(exc), EXIT_AWS) from exc
    except NoRegionError as exc:
        raise CliError(
            "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or pass a function ARN",
            EXIT_AWS,
        ) from exc
    except NoCredentialsError as exc:
        raise CliError(f"no AWS credentials: {exc}", EXIT_AWS) from exc
    except TRANSPORT_ERRORS as exc:
        raise CliError(f"AWS could not be reached: {describe(exc)}", EXIT_AWS) from exc


def _one_line(exc: BaseException) -> str:
    """The error as the single stderr line CONTRACTS §2 asks for."""
    return " ".join(str(exc).split())


def _print(report: Report, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_json_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_report(report, color=use_color(sys.stdout)))
    sys.stdout.flush()


__all__ = ["EXIT_BAD_INPUT", "parse_duration", "register", "run"]
