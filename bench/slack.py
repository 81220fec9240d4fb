"""Slack app benchmark: ack latency under load, and command -> first finding on moto.

    .venv/bin/python -m bench.slack [--rounds 10] [--concurrency 20] [--redis redis://...]

1. Ack latency: `concurrency` signed `/lambda-why` commands at once, `rounds` times,
   against the in-process app (jobs run in the same process, as `serve` without Redis),
   and against the Redis-backed app when `--redis` is given. Goal: p99 < 100 ms.
2. Command -> first finding posted: a moto server seeded with the demo scenarios, the
   real diagnosis, a warm in-process worker (one check run first). Goal: < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import FileConfig, Settings, SlackFileConfig
from bot.queue import CheckJob
from bot.report import Evidence, Finding, Fix, Report, Severity, Status, Summary
from bot.slack.double import SlackDouble, SlackSender
from bot.snapshot import FunctionConfig, LoggingConfig, Snapshot
from bot.web import SERVICES, build_web_app

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench-token"
ACCOUNT = "123456789012"


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Own:
    async def own_identity(self) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(
            account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/bench", partition="aws"
        )


async def fake_diagnose(job: CheckJob) -> tuple[Snapshot, Report]:
    """A diagnosis that takes 50 ms and finds one failure (the presentation path is real)."""
    await asyncio.sleep(0.05)
    name = job.function_ref.rsplit(":", 1)[-1]
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    role = f"arn:aws:iam::{ACCOUNT}:role/{name}-role"
    finding = Finding(
        check="vpc-eni",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="Execution role cannot manage VPC network interfaces",
        principal=role,
        actions=["ec2:CreateNetworkInterface"],
        evidence=[Evidence(policy=role, text="{}")],
        fix=Fix(summary="Attach AWSLambdaVPCAccessExecutionRole"),
    )
    report = Report(
        function=arn,
        account=ACCOUNT,
        region="us-east-1",
        checked_at=datetime.now(UTC),
        summary=Summary.of([finding]),
        findings=[finding],
    )
    snapshot = Snapshot(
        account=ACCOUNT,
        region="us-east-1",
        function=FunctionConfig(
            arn=arn,
            name=name,
            role_arn=role,
            logging=LoggingConfig(log_group=f"/aws/lambda/{name}"),
        ),
    )
    return snapshot, report


def settings(double: SlackDouble, redis_url: str | None = None) -> Settings:
    return Settings.model_validate(
        {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": double.url,
            "redis_url": redis_url,
        }
    )


async def ack_latency(
    rounds: int, concurrency: int, redis_url: str | None
) -> tuple[list[float], list[float]]:
    """Ack latency seen by the client, and measured inside the server (request in ->
    response out), for every command after one warm-up round."""
    config = FileConfig(slack=SlackFileConfig(rate_limit_per_minute=0))
    server_side: list[float] = []

    @web.middleware
    async def timing(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        if request.path == "/slack/events":
            server_side.append(time.perf_counter() - started)
        return response  # type: ignore[no-any-return]

    async with SlackDouble() as double:
        app = build_web_app(
            settings(double, redis_url),
            config,
            access_factory=lambda who: Own(),
            diagnose=fake_diagnose,
        )
        app.middlewares.append(timing)
        server = TestServer(app)
        await server.start_server()
        samples: list[float] = []
        try:
            async with SlackSender(
                str(server.make_url("/slack/events")), SECRET, double=double
            ) as sender:
                await asyncio.gather(
                    *(
                        sender.command(
                            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:warm-{i}",
                            user=f"U{i:04d}",
                        )
                        for i in range(concurrency)
                    )
                )
                await app[SERVICES].drain()
                server_side.clear()
                for r in range(rounds):
                    replies = await asyncio.gather(
                        *(
                            sender.command(
                                f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn-{r}-{i}",
                                user=f"U{i:04d}",
                            )
                            for i in range(concurrency)
                        )
                    )
                    for reply in replies:
                        if reply.status != 200 or "Checking" not in reply.body:
                            raise RuntimeError(f"unexpected ack: {reply.status} {reply.body[:200]}")
                        samples.append(reply.elapsed)
                    await app[SERVICES].drain()
        finally:
            await server.close()
        return samples, server_side


async def first_finding(runs: int) -> tuple[list[float], list[float]]:
    """Seconds from the command to the first finding, and to the parent's summary."""
    from bot.demo.moto import moto_server
    from bot.demo.run import demo_environment
    from bot.demo.scenarios import seed

    keys = [
        "healthy",
        "vpc-no-eni",
        "sqs-no-receive",
        "kms-env",
        "dlq-no-send",
        "xray-no-permission",
    ]
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        scenarios = [
            s for s in await seed(endpoint.endpoint_url, only=keys) if s.account == ACCOUNT
        ]
        with demo_environment(endpoint, Path(tmp)):
            async with SlackDouble() as double:
                app = build_web_app(
                    settings(double), FileConfig(slack=SlackFileConfig(rate_limit_per_minute=0))
                )
                server = TestServer(app)
                await server.start_server()
                firsts: list[float] = []
                totals: list[float] = []
                try:
                    async with SlackSender(
                        str(server.make_url("/slack/events")), SECRET, double=double
                    ) as sender:
                        # warm-up: credentials, identity, imports
                        await sender.command(scenarios[0].function_arn, channel="C0WARM")
                        await app[SERVICES].drain()
                        for index in range(runs):
                            scenario = scenarios[1 + index % (len(scenarios) - 1)]
                            channel = f"C0RUN{index}"
                            start = time.monotonic()
                            await sender.command(scenario.function_arn, channel=channel)
                            await app[SERVICES].drain()
                            replies = [
                                c
                                for c in double.calls_to("chat.postMessage")
                                if c.params.get("channel") == channel and c.params.get("thread_ts")
                            ]
                            updates = [
                                c
                                for c in double.calls_to("chat.update")
                                if c.params.get("channel") == channel
                            ]
                            if not replies or not updates:
                                raise RuntimeError(f"no finding posted for {scenario.key}")
                            firsts.append(replies[0].at - start)
                            totals.append(updates[-1].at - start)
                finally:
                    await server.close()
    return firsts, totals


def show(title: str, samples: Sequence[float], goal: float | None = None) -> None:
    ms = [s * 1000 for s in samples]
    line = (
        f"{title}: n={len(ms)} p50={statistics.median(ms):.1f} ms "
        f"p99={percentile(ms, 99):.1f} ms max={max(ms):.1f} ms"
    )
    if goal is not None:
        line += f" (goal p99 < {goal:.0f} ms: {'met' if percentile(ms, 99) < goal else 'MISSED'})"
    print(line)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.slack")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--redis", default=None, help="also measure with this REDIS_URL (use a spare DB)"
    )
    parser.add_argument("--runs", type=int, default=5, help="first-finding runs on moto")
    args = parser.parse_args(argv)
    print(f"ack latency, {args.concurrency} concurrent commands x {args.rounds} rounds")
    client, server = await ack_latency(args.rounds, args.concurrency, None)
    show("  in-process queue, client", client, goal=100)
    show("  in-process queue, server", server)
    if args.redis:
        client, server = await ack_latency(args.rounds, args.concurrency, args.redis)
        show("  Redis queue, client     ", client, goal=100)
        show("  Redis queue, server     ", server)
    firsts, totals = await first_finding(args.runs)
    print("command -> first finding posted (moto, real diagnosis, warm worker)")
    show("  first finding   ", firsts, goal=2000)
    show("  parent summary  ", totals)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
