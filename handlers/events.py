"""`@lambda-why <ARN or error text>`: answered in the mention's thread.

In an incident thread the answer goes in that thread; a mention at the top level starts a
thread under the mention itself. `app_mention` is the only event the manifest subscribes to;
any other verified event reaches no listener and `bot.web` answers it 200 so that Slack does
not retry it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import SlackDeps
from bot.slack.i18n import Translator
from bot.slack.refs import Requester
from handlers.replies import answer_message


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event("app_mention")
    async def on_mention(
        ack: AsyncAck, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = event.get("user", "")
        channel = event.get("channel", "")
        thread_ts = event.get("thread_ts") or event.get("ts")
        tr = Translator(await deps.locales.locale(client, user))
        requester = Requester(user=user, channel=channel, thread_ts=thread_ts, locale=tr.locale)
        await answer_message(
            deps, client, tr, event, requester, kind="mention", request_id=body.get("event_id")
        )
