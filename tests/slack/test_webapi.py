"""The Web API client waits out Slack's rate limits for the whole `Retry-After`."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.webapi import MAX_RETRY_AFTER, retry_after_seconds, slack_error, web_client

from .strict_slack import StrictSlack

TOKEN = "xoxb-webapi-test"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),  # aiohttp: a string; "30" is not 3 s
        ({"retry-after": ["12"]}, 12.0),  # urllib: lists of strings
        ({"Content-Type": "application/json"}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
        ({"Retry-After": "86400"}, MAX_RETRY_AFTER),
    ],
)
def test_retry_after_seconds(headers: dict[str, object], seconds: float) -> None:
    assert retry_after_seconds(headers) == seconds


async def test_a_rate_limited_call_is_retried_after_retry_after() -> None:
    async with StrictSlack(token=TOKEN, member_of={"C1"}) as api:
        api.ratelimit("chat.postMessage", times=1, retry_after=2)
        client = web_client(TOKEN, api.api_url)
        started = time.monotonic()
        reply = await client.chat_postMessage(channel="C1", text="hello")
        assert reply["ok"]
        assert time.monotonic() - started >= 2.0
        assert [c.status for c in api.to("chat.postMessage")] == [429, 200]


async def test_other_errors_are_raised_with_slacks_code() -> None:
    async with StrictSlack(token=TOKEN, member_of={"C1"}, outside={"C2"}) as api:
        client = web_client(TOKEN, api.api_url)
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C2", text="hello")
        assert slack_error(raised.value) == "not_in_channel"
        assert len(api.to("chat.postMessage")) == 1
