"""Talking to the Slack Web API: clients that wait out rate limits, and Slack's errors.

Every Web API client lambda-why makes retries a `429 ratelimited` answer after the
`Retry-After` seconds Slack sends (https://docs.slack.dev/apis/web-api/rate-limits): a
report of many findings is a burst of thread replies, and Slack allows about one message
a second per channel. Other errors are Slack's answer and are shown to the user, never
dropped: see `bot.worker` (threads) and `handlers.replies` (ephemeral notes).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

log = logging.getLogger(__name__)

#: retries of one call answered `429 ratelimited`, each after Slack's `Retry-After`
RATE_LIMIT_RETRIES = 5
#: the longest `Retry-After` waited for (a job must not hang on one call)
MAX_RETRY_AFTER = 60.0

#: the bot cannot post in the channel: the user is told to invite it
MEMBERSHIP_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
)
#: Slack refused the content of one message: it is sent again as plain text
CONTENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "too_many_attachments",
        "invalid_attachments",
        "no_text",
    }
)
#: the message to update is gone or not the bot's: the update is posted as a new reply
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


def retry_after_seconds(headers: Mapping[str, Any]) -> float:
    """Slack's `Retry-After` (whole seconds) from headers whose values are strings (aiohttp)
    or lists of strings; 1 when absent or unreadable, at most `MAX_RETRY_AFTER`."""
    for name, value in headers.items():
        if name.lower() != "retry-after":
            continue
        text = value[0] if isinstance(value, list | tuple) and value else value
        try:
            return min(max(float(str(text).strip()), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            return 1.0
    return 1.0


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Retries a `429` after the whole `Retry-After`.

    slack_sdk's own async handler reads `headers[name][0]`, but the async client hands it
    aiohttp's headers, whose values are strings: `Retry-After: 30` became a 3 s wait."""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate limit retry without a response")
        state.next_attempt_requested = True
        wait = retry_after_seconds(response.headers or {})
        log.info("Slack rate limit on %s: retrying in %.0f s", request.url, wait)
        await asyncio.sleep(wait + random.random() / 2)
        state.increment_current_attempt()


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(),
        RateLimitRetry(max_retry_count=RATE_LIMIT_RETRIES),
    ]


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """The Web API client; `base_url` is `SLACK_API_URL` (GovSlack, or a test double)."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=retry_handlers(),
    )


def slack_error(exc: SlackClientError) -> str:
    """Slack's error code (`not_in_channel`, ...) or, without one, the exception's text."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        if error:
            return str(error)
    return str(exc) or type(exc).__name__


async def respond(
    response_url: str,
    text: str,
    blocks: list[dict[str, object]] | None = None,
) -> bool:
    """An ephemeral message through a `response_url`; False (logged) if it failed."""
    webhook = AsyncWebhookClient(response_url, retry_handlers=retry_handlers())
    try:
        reply = await webhook.send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
    except (SlackClientError, OSError, TimeoutError) as exc:
        log.warning("response_url post failed: %s", exc)
        return False
    if reply.status_code != 200:
        log.warning("response_url post refused: %s %s", reply.status_code, reply.body)
        return False
    return True
