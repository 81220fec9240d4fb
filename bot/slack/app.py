"""The Bolt app factory. No global app: `build_app` is called by the composition root."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import SlackDeps
from bot.slack.i18n import Translator
from bot.slack.messages import note_message
from bot.slack.refs import Requester
from bot.slack.webapi import slack_error

log = logging.getLogger(__name__)


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
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A listener failed after its ack: log it, and tell the user who asked."""
        log.error("listener failed: %s: %s", type(error).__name__, error, exc_info=error)
        await tell_about_error(deps, client, body, error)

    return app


def _who_and_where(body: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """(user, channel, thread_ts, response_url) of any Slack request body."""
    event = body.get("event") if isinstance(body.get("event"), dict) else None
    if event is not None:
        return (
            str(event.get("user", "")),
            str(event.get("channel", "")),
            event.get("thread_ts") or event.get("ts"),
            None,
        )
    user = body.get("user_id") or (body.get("user") or {}).get("id", "")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id", "")
    urls = body.get("response_urls") or []
    url = body.get("response_url") or next(
        (u.get("response_url") for u in urls if isinstance(u, dict)), None
    )
    return str(user), str(channel), None, url


async def tell_about_error(
    deps: SlackDeps, client: AsyncWebClient, body: dict[str, Any], error: Exception
) -> None:
    """Say privately that the request failed (and why), when the request names its user."""
    from handlers.replies import ephemeral

    user, channel, thread_ts, url = _who_and_where(body)
    if not user or not (channel or url):
        return
    reason = slack_error(error) if isinstance(error, SlackClientError) else type(error).__name__
    try:
        tr = Translator(await deps.locales.locale(client, user))
        requester = Requester(user=user, channel=channel, thread_ts=thread_ts, response_url=url)
        await ephemeral(client, requester, note_message(tr("error.internal", error=reason)))
    except Exception as exc:  # the error handler must not raise
        log.error("could not tell %s about the failure: %s", user, exc)
