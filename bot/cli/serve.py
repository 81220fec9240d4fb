"""`lambda-why serve`: run the Slack app.

HTTP mode on `PORT` (Slack requests at `/slack/events`, `/healthz`, `/readyz`, `/metrics`)
unless `SLACK_APP_TOKEN` selects Socket Mode (the health endpoints are still served).
Without `REDIS_URL` jobs run in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiohttp import web

from bot.cli import CliError
from bot.config import ConfigError, load_config

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the Slack app (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help="port (default: PORT or 3000)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="checks run at once in this process when REDIS_URL is unset (default 4)",
    )
    parser.add_argument("--log-level", default="INFO")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from bot.slack.logs import setup_logging
    from bot.web import SERVICES, build_web_app

    setup_logging(args.log_level)
    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    if settings.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set")
    socket_mode = settings.slack_app_token is not None
    if not socket_mode and settings.slack_signing_secret is None:
        raise CliError("SLACK_SIGNING_SECRET is not set (needed in HTTP mode)")
    try:
        app = build_web_app(settings, config, concurrency=max(1, args.concurrency))
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    port = args.port if args.port is not None else settings.port
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise CliError(f"cannot listen on {args.host}:{port}: {exc.strerror}") from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    handler: Any = None
    try:
        if socket_mode and settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(
                app[SERVICES].bolt, settings.slack_app_token.get_secret_value()
            )
            await handler.connect_async()
            log.info("lambda-why serving in Socket Mode (health on port %s)", port)
        else:
            log.info(
                "lambda-why serving Slack requests on http://%s:%s/slack/events", args.host, port
            )
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if handler is not None:
            with contextlib.suppress(Exception):
                await handler.close_async()
        await runner.cleanup()
    return 0
