"""Answering a message (mention or shortcut): checks for the functions it names, or an
explanation of the access error it holds; refusals as ephemeral replies in the thread."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import messages as m
from bot.slack.audit import audit
from bot.slack.deps import SlackDeps
from bot.slack.extract import access_error, function_refs, texts_of, unwrap_links
from bot.slack.i18n import Translator
from bot.slack.refs import Requester
from bot.slack.webapi import respond, slack_error
from handlers.intake import Refusal, submit_check, submit_explain

log = logging.getLogger(__name__)

#: at most this many functions are checked for one message
MAX_FUNCTIONS_PER_MESSAGE = 3


async def ephemeral(client: AsyncWebClient, requester: Requester, message: m.SlackMessage) -> None:
    """A message only the requester sees, in the request's thread when there is one.

    `chat.postEphemeral` needs the bot in the channel; when Slack refuses it, the request's
    `response_url` (buttons, shortcuts) still reaches the user. A notice nobody can receive
    is logged and audited, never dropped silently."""
    try:
        await client.chat_postEphemeral(
            channel=requester.channel,
            user=requester.user,
            thread_ts=requester.thread_ts,
            text=message.text,
            blocks=message.block_dicts(),
        )
        return
    except SlackClientError as exc:
        error = slack_error(exc)
    if requester.response_url and await respond(
        requester.response_url, message.text, message.block_dicts()
    ):
        return
    log.error(
        "could not tell %s in %s (%s): %s", requester.user, requester.channel, error, message.text
    )
    audit("notice_lost", user=requester.user, channel=requester.channel, error=error)


async def answer_message(
    deps: SlackDeps,
    client: AsyncWebClient,
    tr: Translator,
    message: Mapping[str, Any],
    requester: Requester,
    *,
    kind: str,
    request_id: str | None,
) -> None:
    texts = texts_of(message)
    refs = function_refs(texts)
    if not refs and kind == "mention":
        # `@lambda-why orders`: one word is a function name (or a partial ARN)
        words = unwrap_links(str(message.get("text") or "")).split()
        if len(words) == 1 and words[0].lower() not in ("help", "explain"):
            refs = words
    if refs:
        for ref in refs[:MAX_FUNCTIONS_PER_MESSAGE]:
            job, outcome = await submit_check(
                deps, tr, ref, requester, kind=kind, request_id=request_id
            )
            if isinstance(outcome, Refusal):
                deps.metrics.requests.labels(kind=kind, outcome="refused").inc()
                await ephemeral(
                    client, requester, m.error_message(tr, outcome.text, usage=outcome.usage)
                )
            elif outcome.joined and job is not None:
                await ephemeral(
                    client, requester, m.note_message(tr("ack.joined", function=job.function_ref))
                )
        return
    error = access_error(texts)
    if error is not None:
        result = await submit_explain(deps, tr, error, requester, kind=kind, request_id=request_id)
        if isinstance(result, Refusal):
            deps.metrics.requests.labels(kind=kind, outcome="refused").inc()
            await ephemeral(client, requester, m.error_message(tr, result.text, usage=result.usage))
        return
    deps.metrics.requests.labels(kind=kind, outcome="nothing_found").inc()
    await ephemeral(client, requester, m.error_message(tr, tr("error.nothing_found")))
