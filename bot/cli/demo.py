"""`lambda-why demo`: the whole flow on a local moto server and Slack double (docs/demo.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import EXIT_OK, CliError

DEFAULT_OUT = Path("lambda-why-demo")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run lambda-why end to end on a local fake AWS and Slack (no setup, no network)",
        description=(
            "Seed a local moto server with broken and healthy Lambda functions, run the "
            "Slack bot against a local Slack double, print the threads and write the "
            "support bundles. Needs no AWS account, Slack workspace or network."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for the exported support bundles (default: ./{DEFAULT_OUT}/)",
    )
    parser.add_argument(
        "--all", action="store_true", help="run every scenario, not just the default few"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="KEY",
        help="run only this scenario (repeatable); see docs/demo.md for the keys",
    )
    parser.add_argument(
        "--no-slack",
        action="store_true",
        help="diagnose directly and print findings instead of driving the Slack app",
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo
    from bot.demo.scenarios import SCENARIO_KEYS

    unknown = sorted(set(args.scenario or ()) - set(SCENARIO_KEYS))
    if unknown:
        raise CliError(
            f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIO_KEYS)}"
        )
    out_dir: Path = args.out
    if out_dir.exists() and not out_dir.is_dir():  # noqa: ASYNC240 (before any I/O starts)
        raise CliError(f"--out {out_dir} exists and is not a folder")
    await run_demo(
        out_dir,
        keys=args.scenario,
        all_scenarios=args.all,
        use_slack=False if args.no_slack else None,
    )
    return EXIT_OK
