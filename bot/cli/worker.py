"""`lambda-why worker`: run queued checks from Redis (`REDIS_URL`).

Runs up to `--concurrency` jobs at once; heartbeats each job so that a job whose worker
died is re-queued by the sweep of any live worker; SIGTERM stops dequeuing and lets
running jobs finish (up to `--grace` seconds). `--burst` drains the queue and exits.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import CliError
from bot.config import ConfigError, load_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run queued Slack checks from Redis (REDIS_URL)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once (default 4)")
    parser.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    parser.add_argument(
        "--sweep-interval",
        type=int,
        default=10,
        help="seconds between sweeps for jobs of dead workers (default 10)",
    )
    parser.add_argument(
        "--grace", type=int, default=30, help="seconds running jobs get on SIGTERM (default 30)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve /metrics and /healthz for this worker on this port",
    )
    parser.add_argument("--log-level", default="INFO")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from bot.queue import SaqJobQueue, saq_worker
    from bot.slack.logs import setup_logging
    from bot.slack.metrics import Metrics
    from bot.slack.store import RedisStore
    from bot.slack.webapi import web_client
    from bot.web import default_access_factory, explain_function, job_limits
    from bot.worker import JobRunner, aws_diagnose

    setup_logging(args.log_level)
    if args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    if not settings.redis_url:
        raise CliError("REDIS_URL is not set: without it `lambda-why serve` runs the jobs itself")
    if settings.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set")
    access_factory = default_access_factory(settings, config)
    store = RedisStore.from_url(settings.redis_url)
    jobs = SaqJobQueue.from_url(settings.redis_url, limits=job_limits(config))
    metrics = Metrics()
    runner = JobRunner(
        client=web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url),
        store=store,
        diagnose=aws_diagnose(access_factory),
        explain=explain_function(access_factory),
        metrics=metrics,
        account_concurrency=config.slack.account_concurrency,
    )
    worker = saq_worker(
        jobs,
        runner,
        concurrency=args.concurrency,
        burst=args.burst,
        sweep_interval=args.sweep_interval,
        shutdown_grace=args.grace,
    )
    await jobs.queue.connect()
    site = await _metrics_site(metrics, args.metrics_port) if args.metrics_port else None
    try:
        await worker.start()
    finally:
        if site is not None:
            await site.cleanup()
        await jobs.close()
        await store.close()
    return 0


async def _metrics_site(metrics: Any, port: int) -> Any:
    """A tiny HTTP server with the worker's Prometheus metrics."""
    from aiohttp import web

    from bot.slack.metrics import CONTENT_TYPE_LATEST

    async def render(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/metrics", render)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
    except OSError as exc:
        await runner.cleanup()
        raise CliError(f"cannot listen on port {port}: {exc.strerror}") from exc
    return runner
