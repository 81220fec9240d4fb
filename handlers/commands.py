"""`/lambda-why <function>`, `/lambda-why explain <message>`, `/lambda-why help`.

The reply to the command itself (the ack body) is the ephemeral note: the help, a refusal
saying what was wrong and how to call the bot, or "checking…". Slack wants it within 3 s;
everything slow happens in the job.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.queue import SubmitResult
from bot.slack import messages as m
from bot.slack.actions import COMMAND
from bot.slack.audit import audit
from bot.slack.deps import SlackDeps
from bot.slack.i18n import Translator
from bot.slack.refs import Requester
from handlers.intake import Refusal, submit_check, submit_explain

HELP_WORDS = {"help", "-h", "--help", "?"}


async def ack_message(ack: AsyncAck, message: m.SlackMessage) -> None:
    await ack(response_type="ephemeral", text=message.text, blocks=message.block_dicts())


async def ack_refusal(ack: AsyncAck, tr: Translator, refusal: Refusal) -> None:
    await ack_message(ack, m.error_message(tr, refusal.text, usage=refusal.usage))


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.command(COMMAND)
    async def on_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        user = command.get("user_id", "")
        channel = command.get("channel_id", "")
        text = (command.get("text") or "").strip()
        tr = Translator(await deps.locales.locale(client, user))
        requester = Requester(
            user=user, channel=channel, response_url=command.get("response_url"), locale=tr.locale
        )
        request_id = command.get("trigger_id")
        word, _, rest = text.partition(" ")
        if not text or word.lower() in HELP_WORDS:
            await ack_message(ack, m.help_message(tr))
            deps.metrics.requests.labels(kind="help", outcome="answered").inc()
            audit(
                "request",
                kind="help",
                user=user,
                channel=channel,
                request=request_id,
                outcome="answered",
            )
            return
        if word.lower() == "explain":
            result = await submit_explain(
                deps, tr, rest, requester, kind="command_explain", request_id=request_id
            )
            if isinstance(result, Refusal):
                deps.metrics.requests.labels(kind="command_explain", outcome="refused").inc()
                await ack_refusal(ack, tr, result)
                return
            await ack_message(ack, m.note_message(tr("ack.explain_queued")))
            return
        job, outcome = await submit_check(
            deps, tr, text, requester, kind="command", request_id=request_id
        )
        if isinstance(outcome, Refusal) or job is None:
            deps.metrics.requests.labels(kind="command", outcome="refused").inc()
            refusal = outcome if isinstance(outcome, Refusal) else Refusal(tr("usage"), "bad")
            await ack_refusal(ack, tr, refusal)
            return
        await ack_message(ack, m.note_message(queued_text(tr, job.function_ref, outcome)))


def queued_text(tr: Translator, function: str, outcome: SubmitResult) -> str:
    if outcome.joined:
        return tr("ack.joined", function=function)
    return tr("ack.queued", function=function)
