"""The Bolt app factory. No global app: `build_app` is called by the composition root."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """The Web API client; `base_url` is `SLACK_API_URL` (GovSlack, or a test double)."""
    return AsyncWebClient(
        token=token, base_url=base_url if base_url.endswith("/") else base_url + "/"
    )


def idempotency_key(req: AsyncBoltRequest) -> str:
    """What makes a Slack request unique: the event id for Events API deliveries (Slack
    retries resend the same event id), otherwise a digest of the signed body (a retried
    delivery is byte-identical)."""
    body = req.body if isinstance(req.body, dict) else {}
    event_id = body.get("event_id")
    if event_id:
        return f"event:{event_id}"
    digest = hashlib.sha256(req.raw_body.encode("utf-8")).hexdigest()
    return f"body:{digest}"


def build_app(
    *,
    client: AsyncWebClient,
    signing_secret: str,
    deps: SlackDeps,
    process_before_response: bool = False,
) -> AsyncApp:
    """The lambda-why Bolt app with every listener registered.

    A global middleware drops repeated deliveries (`X-Slack-Retry-Num` retries and
    duplicates) before any listener runs, so nothing is ever queued twice.
    """
    from handlers import register

    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        name="lambda-why",
    )

    @app.middleware
    async def drop_repeats(
        request: AsyncBoltRequest,
        response: BoltResponse,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse:
        key = idempotency_key(request)
        retry = request.headers.get("x-slack-retry-num")
        first = await deps.store.claim(key, deps.dedupe_ttl)
        # An event id is unique per event, so a second delivery is always a repeat. Any
        # other byte-identical body is a repeat only when Slack says it retries: a person
        # may well send the same command twice on purpose.
        if not first and (retry is not None or key.startswith("event:")):
            log.info("dropping repeated Slack delivery %s (retry %s)", key, retry)
            deps.metrics.requests.labels(kind="repeat", outcome="dropped").inc()
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        await next()
        return response

    register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s: %s", type(error).__name__, error, exc_info=error)

    return app
