"""The `lambda-why` command line: one module per sub-command.

Each sub-command module defines `register(subparsers)`, which adds its parser and sets
`handler` to an `async def run(args) -> int`. Exit codes follow CONTRACTS §2.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from bot import __version__

#: sub-command modules under bot.cli, in the order `--help` lists them
COMMANDS = (
    "demo",
    "check",
    "explain",
    "history",
    "diff",
    "simulate",
    "serve",
    "worker",
)

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_AWS = 3

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class CliError(Exception):
    """Bad input: printed as one line on stderr with exit code 2 (or `code`)."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one stderr line (exit 2) like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lambda-why",
        description="Explain why an AWS Lambda function is denied.",
    )
    parser.add_argument("--version", action="version", version=f"lambda-why {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module_name = f"bot.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(handler(args))
    except CliError as exc:
        print(f"lambda-why: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # AWS that cannot be used, wherever a command meets it (an unknown AWS_PROFILE, an
        # unparsable ~/.aws/config): exit 3 and one line, never a traceback that reads as
        # exit 1 ("a fail was found") to a script
        reason = _aws_unavailable(exc)
        if reason is None:
            raise
        print(f"lambda-why: {reason}", file=sys.stderr)
        return EXIT_AWS


def _aws_unavailable(exc: Exception) -> str | None:
    """The one-line reason when `exc` means AWS could not be used, else None."""
    if "bot.aws.errors" not in sys.modules:  # commands that never touch AWS
        return None
    from bot.aws.access import describe
    from bot.aws.errors import TRANSPORT_ERRORS, AwsUnavailable

    if isinstance(exc, AwsUnavailable):
        return " ".join(str(exc).split())
    if isinstance(exc, TRANSPORT_ERRORS):
        return f"AWS could not be used: {describe(exc)}"
    return None
