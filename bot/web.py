"""The aiohttp web entry: Slack requests, health, readiness and metrics.

`build_web_app` is the composition used by `lambda-why serve` and by `lambda-why demo`
(in process): it wires the Web API client (`SLACK_API_URL`), the store and queue (Redis
when `REDIS_URL` is set, else in memory with jobs run in this process), the job runner and
the Bolt app, and returns an `aiohttp.web.Application` with:

- `POST /slack/events`: every Slack request (commands, events, interactivity);
- `GET /healthz`: 200 once serving;
- `GET /readyz`: 200 when Redis answers (or no Redis is configured), else 503;
- `GET /metrics`: Prometheus text from this app's own registry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, FileConfig, Settings
from bot.queue import InProcessJobQueue, JobLimits, JobQueue, SaqJobQueue
from bot.slack.app import build_app
from bot.slack.deps import LocaleResolver, OwnAccount, SlackDeps
from bot.slack.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.store import MemoryStore, RedisStore, Store
from bot.slack.webapi import web_client
from bot.worker import AccessFactory, DiagnoseFn, ExplainFn, JobRunner, aws_diagnose

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"


@dataclass
class Services:
    """Everything one serving process holds; `app[SERVICES]` in the web app."""

    client: AsyncWebClient
    store: Store
    queue: JobQueue
    runner: JobRunner
    deps: SlackDeps
    bolt: AsyncApp
    metrics: Metrics

    async def drain(self) -> None:
        """Wait for in-process jobs (tests and the demo)."""
        if isinstance(self.queue, InProcessJobQueue):
            await self.queue.drain()


SERVICES: web.AppKey[Services] = web.AppKey("lambda_why_services", Services)


def default_access_factory(settings: Settings, config: FileConfig) -> AccessFactory:
    """One shared `AwsAccess` (credential and read caches), viewed per requester."""
    from bot.aws.access import AwsAccess

    shared = AwsAccess(settings, config)

    def factory(requested_by: str | None) -> Any:
        return shared.as_requester(requested_by)

    return factory


def build_services(
    settings: Settings,
    config: FileConfig,
    *,
    access_factory: AccessFactory | None = None,
    diagnose: DiagnoseFn | None = None,
    explain: ExplainFn | None = None,
    store: Store | None = None,
    queue: JobQueue | None = None,
    concurrency: int = 4,
) -> Services:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    client = web_client(token, settings.slack_api_url)
    if access_factory is None and (diagnose is None or explain is None):
        access_factory = default_access_factory(settings, config)
    metrics = Metrics()
    if store is None:
        store = RedisStore.from_url(settings.redis_url) if settings.redis_url else MemoryStore()
    runner = JobRunner(
        client=client,
        store=store,
        diagnose=diagnose or aws_diagnose(_required(access_factory)),
        explain=explain or explain_function(access_factory),
        metrics=metrics,
        account_concurrency=config.slack.account_concurrency,
    )
    if queue is None:
        queue = (
            SaqJobQueue.from_url(settings.redis_url, limits=job_limits(config))
            if settings.redis_url
            else InProcessJobQueue(runner, concurrency=concurrency)
        )

    async def own_account() -> str:
        access = _required(access_factory)(None)
        identity = await access.own_identity()
        return str(identity.account)

    deps = SlackDeps(
        config=config,
        queue=queue,
        store=store,
        own_account=OwnAccount(own_account),
        metrics=metrics,
        locales=LocaleResolver(config.slack.locale),
        escalation_channel=config.escalation.channel or settings.escalation_channel,
        rate_limit_per_minute=config.slack.rate_limit_per_minute,
        parse_error=parse_function(),
        build_bundle=bundle_function(),
        support_case=_support_case(config),
    )
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    bolt = build_app(client=client, signing_secret=secret, deps=deps)
    return Services(
        client=client,
        store=store,
        queue=queue,
        runner=runner,
        deps=deps,
        bolt=bolt,
        metrics=metrics,
    )


def _required(factory: AccessFactory | None) -> AccessFactory:
    if factory is None:
        raise ConfigError("no AWS access configured")
    return factory


def job_limits(config: FileConfig) -> JobLimits:
    return JobLimits(timeout=config.slack.job_timeout_seconds)


def parse_function() -> Callable[[str], Any] | None:
    try:
        from bot.explain.parser import parse_message
    except ImportError:
        return None
    return parse_message


def bundle_function() -> Callable[..., bytes] | None:
    try:
        from bot.bundle import build_bundle
    except ImportError:
        return None
    return build_bundle


def explain_function(access_factory: AccessFactory | None) -> ExplainFn | None:
    from bot.slack.explain import make_explain

    return make_explain(access_factory)


def _support_case(config: FileConfig) -> Any:
    if not config.escalation.support_case:
        return None
    from bot.slack.support import support_case_writer

    return support_case_writer()


def build_web_app(
    settings: Settings,
    config: FileConfig,
    *,
    access_factory: AccessFactory | None = None,
    diagnose: DiagnoseFn | None = None,
    explain: ExplainFn | None = None,
    services: Services | None = None,
    concurrency: int = 4,
) -> web.Application:
    """The serving app (see the module docstring). `diagnose` replaces the AWS diagnosis
    (tests, benchmarks); `access_factory` replaces how AWS is reached (the demo)."""
    services = services or build_services(
        settings,
        config,
        access_factory=access_factory,
        diagnose=diagnose,
        explain=explain,
        concurrency=concurrency,
    )
    app = web.Application()
    app[SERVICES] = services
    app.router.add_post(SLACK_PATH, _slack_events)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app


async def _slack_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    started = time.perf_counter()
    bolt_request = await to_bolt_request(request)
    bolt_response = await services.bolt.async_dispatch(bolt_request)
    if bolt_response.status == 404:
        # a verified request no listener wants (an event type we do not use): answer 200 so
        # that Slack does not retry it
        bolt_response = BoltResponse(status=200, body="")
    response = await to_aiohttp_response(bolt_response)
    services.metrics.ack_seconds.observe(time.perf_counter() - started)
    return response


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = {"queue": await services.queue.ping(), "store": await services.store.ping()}
    status = 200 if all(checks.values()) else 503
    return web.json_response({"ready": status == 200, **checks}, status=status)


async def _metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.Response(
        body=services.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def _on_startup(app: web.Application) -> None:
    services = app[SERVICES]
    if isinstance(services.queue, SaqJobQueue):
        await services.queue.queue.connect()
    try:
        reply = await services.client.auth_test()
        log.info("Slack auth.test: bot %s in team %s", reply.get("user_id"), reply.get("team"))
    except (TimeoutError, SlackClientError, OSError) as exc:
        log.warning("Slack auth.test failed at startup: %s", exc)
    task = asyncio.create_task(_prefetch_own_account(services))
    app[_PREFETCH] = task


_PREFETCH: web.AppKey[asyncio.Task[None]] = web.AppKey("lambda_why_prefetch", asyncio.Task)


async def _prefetch_own_account(services: Services) -> None:
    try:
        account = await services.deps.own_account.get()
        log.info("AWS account of the bot: %s", account)
    except Exception as exc:
        log.warning("could not read the bot's own AWS identity yet: %s", exc)


async def _on_cleanup(app: web.Application) -> None:
    services = app[SERVICES]
    app[_PREFETCH].cancel()
    await services.queue.close()
    await services.store.close()
