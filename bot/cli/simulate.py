"""`lambda-why simulate FILE [--explain]` (CONTRACTS §1).

Reads JSON Lines (`-` = stdin), one authorization request per line, and writes one
result per line to stdout in input order. Blank lines are not requests: they are skipped
and produce no output. A line that cannot be read or evaluated yields
`{"id": ..., "error": "<reason>"}` and the run goes on. Exit code 0, or 2 (one line on
stderr) when FILE itself cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterable
from typing import IO, Any

from bot.cli import EXIT_OK, CliError
from bot.iam.model import Decision
from bot.iam.simulate import simulate_line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="evaluate IAM authorization requests offline (JSON Lines)",
        description=(
            "Evaluate IAM authorization requests offline with lambda-why's own policy "
            "evaluator. FILE holds JSON Lines: {id, request, policies} per line; one "
            "result per line is printed in input order."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="JSON Lines file, or - for stdin")
    parser.add_argument(
        "--explain", action="store_true", help="print a human-readable explanation per line"
    )
    parser.set_defaults(handler=run)


def _explain(result: dict[str, Any], decision: Decision | None, lineno: int) -> str:
    name = result.get("id")
    head = f"{name}" if name is not None else f"line {lineno}"
    if decision is None:
        return f"{head}: ERROR {result['error']}"
    lines = [f"{head}: {decision.verdict.value.upper().replace('_', ' ')}"]
    if decision.denied_by:
        lines[0] += f" (denied by: {', '.join(t.value for t in decision.denied_by)})"
    lines.append(f"  {decision.explanation}")
    for ref in decision.statements:
        sid = f"Sid {ref.sid}" if ref.sid else f"statement {ref.index}"
        lines.append(f"  - {ref.effect} {ref.policy} {sid}")
    return "\n".join(lines)


def simulate_stream(lines: Iterable[bytes], out: IO[str], *, explain: bool = False) -> int:
    """Evaluate every non-blank line; returns how many results were written."""
    written = 0
    for lineno, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            result: dict[str, Any] = {"id": None, "error": f"line {lineno}: not valid UTF-8"}
            decision = None
        else:
            if not text.strip():
                continue
            result, decision = simulate_line(text, lineno)
        if explain:
            out.write(_explain(result, decision, lineno) + "\n")
        else:
            out.write(json.dumps(result) + "\n")
        out.flush()
        written += 1
    return written


def _open(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _run(path: str, explain: bool) -> int:
    stream = _open(path)
    try:
        simulate_stream(stream, sys.stdout, explain=explain)
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, as line-oriented tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return EXIT_OK


async def run(args: argparse.Namespace) -> int:
    return await asyncio.to_thread(_run, args.file, args.explain)
