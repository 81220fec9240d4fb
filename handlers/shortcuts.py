"""The message shortcut "Diagnose with lambda-why": read a message (an alarm, a pasted
error, a log link), find functions and access errors in its text, blocks and attachments,
and answer in that message's thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.actions import CallbackId
from bot.slack.deps import SlackDeps
from bot.slack.i18n import Translator
from bot.slack.refs import Requester
from handlers.replies import answer_message


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.message_shortcut(CallbackId.DIAGNOSE_MESSAGE.value)
    async def on_shortcut(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = (shortcut.get("user") or {}).get("id", "")
        channel = (shortcut.get("channel") or {}).get("id", "")
        message = shortcut.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        tr = Translator(await deps.locales.locale(client, user))
        requester = Requester(
            user=user,
            channel=channel,
            thread_ts=thread_ts,
            response_url=shortcut.get("response_url"),
            locale=tr.locale,
        )
        await answer_message(
            deps,
            client,
            tr,
            message,
            requester,
            kind="shortcut",
            request_id=shortcut.get("trigger_id"),
        )
