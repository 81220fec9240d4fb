"""The parent's buttons and the escalation modal.

- Rerun: queue the same check; the worker answers in the same thread with a diff.
- Escalate: open the modal; on submit, post to the escalation channel (summary, thread
  permalink, on-call mention), keep the answers for Export, open an AWS Support case
  when the configuration enables it.
- Export: upload the support bundle into the thread (`files_upload_v2`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import messages as m
from bot.slack.actions import ActionId, CallbackId, EscalationField
from bot.slack.audit import audit
from bot.slack.deps import SlackDeps
from bot.slack.i18n import Translator
from bot.slack.refs import ButtonValue, Requester
from bot.slack.webapi import MEMBERSHIP_ERRORS, slack_error
from handlers.intake import Refusal, authorize, submit_check
from handlers.replies import ephemeral

log = logging.getLogger(__name__)


def _value(body: dict[str, Any]) -> ButtonValue | None:
    actions = body.get("actions") or []
    if not actions:
        return None
    try:
        return ButtonValue.model_validate_json(actions[0].get("value") or "")
    except ValidationError:
        return None


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def start(
        body: dict[str, Any], client: AsyncWebClient
    ) -> tuple[ButtonValue | None, Translator, Requester]:
        user = _user(body)
        tr = Translator(await deps.locales.locale(client, user))
        value = _value(body)
        channel = value.thread.channel if value else str((body.get("channel") or {}).get("id", ""))
        requester = Requester(
            user=user,
            channel=channel,
            thread_ts=value.thread.thread_ts if value else None,
            response_url=body.get("response_url"),
            locale=tr.locale,
        )
        return value, tr, requester

    @app.action(ActionId.RERUN.value)
    async def on_rerun(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value, tr, requester = await start(body, client)
        if value is None:
            await ephemeral(
                client, requester, m.error_message(tr, tr("error.expired"), usage=False)
            )
            return
        job, outcome = await submit_check(
            deps,
            tr,
            value.function_ref,
            requester,
            kind="rerun",
            request_id=body.get("trigger_id"),
            rerun_of=value.thread,
        )
        if isinstance(outcome, Refusal):
            await ephemeral(client, requester, m.error_message(tr, outcome.text, usage=False))
        elif outcome.joined and job is not None:
            await ephemeral(
                client, requester, m.note_message(tr("ack.joined", function=job.function_ref))
            )

    @app.action(ActionId.ESCALATE.value)
    async def on_escalate(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value, tr, requester = await start(body, client)
        if value is None:
            await ephemeral(
                client, requester, m.error_message(tr, tr("error.expired"), usage=False)
            )
            return
        if value.account is not None:
            refusal = await authorize(deps, tr, value.account, requester.channel)
            if refusal is not None:
                await ephemeral(client, requester, m.error_message(tr, refusal.text, usage=False))
                return
        view = m.escalation_modal(tr, value.function_ref, value.model_dump_json())
        try:
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=view.to_dict())
        except SlackClientError as exc:
            error = slack_error(exc)
            log.warning("views.open failed: %s", error)
            await ephemeral(
                client, requester, m.note_message(tr("escalation.open_failed", error=error))
            )
            audit(
                "request",
                kind="escalate_open",
                user=requester.user,
                channel=requester.channel,
                account=value.account,
                function=value.function_ref,
                outcome="slack_error",
                error=error,
            )
            return
        audit(
            "request",
            kind="escalate_open",
            user=requester.user,
            channel=requester.channel,
            account=value.account,
            function=value.function_ref,
            outcome="modal",
        )

    @app.view(CallbackId.ESCALATE_MODAL.value)
    async def on_escalation_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = _user(body)
        tr = Translator(await deps.locales.locale(client, user))
        try:
            value = ButtonValue.model_validate_json(view.get("private_metadata") or "")
        except ValidationError:
            log.warning("escalation modal without a thread reference")
            return
        answers = modal_answers(view)
        answers["escalated_by"] = user
        answers["escalated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        thread = value.thread
        await deps.store.save_escalation(thread.key, answers)
        stored = await deps.store.load_result(thread.key)
        requester = Requester(
            user=user, channel=thread.channel, thread_ts=thread.thread_ts, locale=tr.locale
        )
        permalink = None
        try:
            reply = await client.chat_getPermalink(
                channel=thread.channel, message_ts=thread.parent_ts
            )
            permalink = reply.get("permalink")
        except SlackClientError as exc:
            log.warning("chat.getPermalink failed: %s", exc)
        target = deps.escalation_channel
        target_error: str | None = None
        notes: list[str] = []
        if target:
            post = m.escalation_post(
                tr,
                report=stored.report if stored else None,
                function=value.function_ref,
                user=user,
                answers=answers,
                permalink=permalink,
                mention=deps.config.escalation.mention,
            )
            try:
                await client.chat_postMessage(
                    channel=target, text=post.text, blocks=post.block_dicts(), unfurl_links=False
                )
                notes.append(tr("escalation.posted", user=user, channel=target))
            except SlackClientError as exc:
                error = slack_error(exc)
                log.warning("escalation post in %s failed: %s", target, error)
                notes.append(tr("escalation.post_failed", channel=target, error=error))
                target_error = error
        else:
            notes.append(tr("escalation.no_channel", user=user))
        if deps.support_case is not None:
            subject = f"AWS Lambda permissions: {value.function_ref}"[:200]
            body_text = support_case_body(
                value, answers, permalink, stored.report if stored else None
            )
            try:
                case_id = await deps.support_case(subject, body_text)
                notes.append(tr("escalation.case", case_id=case_id))
                answers["support_case"] = case_id
                await deps.store.save_escalation(thread.key, answers)
            except Exception as exc:
                notes.append(tr("escalation.case_failed", error=str(exc)))
        note = m.note_message("\n".join(notes))
        try:
            await client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=note.text,
                blocks=note.block_dicts(),
            )
        except SlackClientError as exc:
            log.warning("escalation note in %s failed: %s", thread.channel, slack_error(exc))
            await ephemeral(client, requester, note)
        outcome = "posted" if target else "recorded"
        if target_error is not None:
            outcome = "slack_error"
        deps.metrics.requests.labels(kind="escalate", outcome=outcome).inc()
        audit(
            "request",
            kind="escalate",
            user=user,
            channel=requester.channel,
            account=value.account,
            function=value.function_ref,
            outcome=outcome,
            escalation_channel=target,
            error=target_error,
        )

    @app.action(ActionId.EXPORT.value)
    async def on_export(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value, tr, requester = await start(body, client)
        stored = await deps.store.load_result(value.thread.key) if value else None
        if value is None or stored is None or stored.snapshot is None:
            await ephemeral(
                client, requester, m.error_message(tr, tr("error.expired"), usage=False)
            )
            return
        if deps.build_bundle is None:
            await ephemeral(
                client, requester, m.note_message(tr("export.failed", error="no bundle writer"))
            )
            return
        escalation = await deps.store.load_escalation(value.thread.key)
        answers = {k: str(v) for k, v in escalation.items()} if escalation else None
        try:
            data = await asyncio.to_thread(
                deps.build_bundle, stored.report, stored.snapshot, escalation=answers
            )
        except Exception as exc:
            log.exception("support bundle failed")
            await ephemeral(client, requester, m.note_message(tr("export.failed", error=str(exc))))
            return
        filename = bundle_filename(stored.report.function, stored.report.checked_at)
        try:
            await client.files_upload_v2(
                channel=value.thread.channel,
                thread_ts=value.thread.thread_ts,
                file=data,
                filename=filename,
                title=filename,
                initial_comment=tr(
                    "export.comment", function=stored.report.function, user=requester.user
                ),
            )
        except SlackClientError as exc:
            error = slack_error(exc)
            log.warning("support bundle upload failed: %s", error)
            text = tr("export.upload_failed", error=error)
            if isinstance(exc, SlackApiError) and error in MEMBERSHIP_ERRORS:
                text += " " + tr("error.invite_hint")
            await ephemeral(client, requester, m.note_message(text))
            deps.metrics.requests.labels(kind="export", outcome="slack_error").inc()
            audit(
                "request",
                kind="export",
                user=requester.user,
                channel=requester.channel,
                account=value.account,
                function=value.function_ref,
                outcome="slack_error",
                error=error,
            )
            return
        deps.metrics.requests.labels(kind="export", outcome="uploaded").inc()
        audit(
            "request",
            kind="export",
            user=requester.user,
            channel=requester.channel,
            account=value.account,
            function=value.function_ref,
            outcome="uploaded",
            bytes=len(data),
        )


def modal_answers(view: dict[str, Any]) -> dict[str, str]:
    """The modal's answers by field name, whatever input element carried each one."""
    values = (view.get("state") or {}).get("values") or {}
    answers: dict[str, str] = {}
    for field in EscalationField:
        block = values.get(field.value) or {}
        element: dict[str, Any] = block.get(field.value) or next(iter(block.values()), {})
        answer = _element_value(element)
        if answer:
            answers[field.value] = answer
    return answers


def _element_value(element: dict[str, Any]) -> str | None:
    if not isinstance(element, dict):
        return None
    if element.get("value"):
        return str(element["value"])
    option = element.get("selected_option")
    if isinstance(option, dict) and option.get("value"):
        return str(option["value"])
    if element.get("selected_date_time"):
        stamp = datetime.fromtimestamp(int(element["selected_date_time"]), UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    for key in ("selected_date", "selected_time"):
        if element.get(key):
            return str(element[key])
    return None


def bundle_filename(function: str, checked_at: datetime) -> str:
    name = (
        function.split(":function:", 1)[-1].replace(":", "-")
        if ":function:" in function
        else "function"
    )
    return f"lambda-why-{name}-{checked_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.zip"


def support_case_body(
    value: ButtonValue, answers: dict[str, str], permalink: str | None, report: Any
) -> str:
    lines = [
        f"Function: {value.function_ref}",
        f"Pattern: {answers.get('pattern', 'not given')}",
        f"Started (UTC): {answers.get('started', 'not given')}",
        f"Impact: {answers.get('impact', 'not given')}",
        f"Notes: {answers.get('notes', 'not given')}",
    ]
    if report is not None:
        lines.append("Findings (lambda-why check --json):")
        lines.append(json.dumps(report.to_json_dict(), indent=2)[:20000])
    if permalink:
        lines.append(f"Slack thread: {permalink}")
    return "\n".join(lines)
