"""Job execution: diagnose a function and present the result in a Slack thread.

`JobRunner.run` is the one job function, run by saq workers (`lambda-why worker`) and by
the in-process queue (`lambda-why serve` without Redis):

1. post the parent message ("checking…") — or, for Rerun, a status reply in the thread;
2. diagnose (at most N concurrent checks per account);
3. post each failing / undecided / warning finding as a thread reply, passes folded into one;
4. for Rerun, say what is fixed and what is new since the previous run;
5. keep the result (Report + Snapshot) for Rerun and Export, keyed by thread;
6. update the parent with the summary and the Rerun / Escalate / Export buttons;
7. present the same result to requests that joined the running check elsewhere.

Slack's refusals are shown, never dropped: a reply whose blocks Slack refuses is posted
again as plain text with a note; an update of a message that is gone is posted as a new
reply; when the channel cannot be posted in at all, the requester is told privately
(`response_url`, else an ephemeral message) and the job ends with outcome `slack_error`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.queue import CheckJob, ExplainJob, JobContext
from bot.report import Finding, Report
from bot.slack import messages as m
from bot.slack.audit import audit
from bot.slack.i18n import Translator
from bot.slack.metrics import Metrics
from bot.slack.refs import ButtonValue, Requester, ThreadRef
from bot.slack.store import Store, StoredResult
from bot.slack.webapi import (
    CONTENT_ERRORS,
    GONE_ERRORS,
    MEMBERSHIP_ERRORS,
    respond,
    slack_error,
)
from bot.snapshot import Snapshot

log = logging.getLogger(__name__)

DiagnoseFn = Callable[[CheckJob], Awaitable[tuple[Snapshot, Report]]]
#: requested_by -> an `AwsAccess`
AccessFactory = Callable[[str | None], Any]


@dataclass
class ExplainOutcome:
    """What `explain` found: the parsed message, findings from evaluation, or an error."""

    parsed: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


ExplainFn = Callable[[ExplainJob], Awaitable[ExplainOutcome]]


def expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's answer, not a crash: bad ARN, unknown function, no AWS."""
    try:
        from bot.aws.errors import (
            AccountNotAllowed,
            AwsUnavailable,
            BadFunctionRef,
            FunctionNotFound,
        )
    except ImportError:
        return (ValueError, LookupError, PermissionError, ConnectionError)
    return (BadFunctionRef, FunctionNotFound, AccountNotAllowed, AwsUnavailable, ValueError)


def aws_diagnose(access_factory: AccessFactory) -> DiagnoseFn:
    """The real diagnosis: `bot.diagnose.diagnose` with an `AwsAccess` per requester."""

    async def run(job: CheckJob) -> tuple[Snapshot, Report]:
        from bot.diagnose import diagnose

        access = access_factory(job.requester.user)
        result: tuple[Snapshot, Report] = await diagnose(
            access,
            job.function_ref,
            since=timedelta(hours=job.since_hours),
            scan_triggers=job.scan_triggers,
            # a Rerun follows a fix: it must not see the shared access layer's cached reads
            fresh=job.rerun_of is not None,
        )
        return result

    return run


class JobRunner:
    """Runs jobs and writes their results to Slack."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        store: Store,
        diagnose: DiagnoseFn,
        explain: ExplainFn | None = None,
        metrics: Metrics | None = None,
        account_concurrency: int = 2,
        slot_lease: int = 330,
    ) -> None:
        self.client = client
        self.store = store
        self.diagnose = diagnose
        self.explain = explain
        self.metrics = metrics
        self.account_concurrency = account_concurrency
        self.slot_lease = slot_lease

    async def __call__(self, job: CheckJob | ExplainJob, ctx: JobContext) -> dict[str, Any]:
        return await self.run(job, ctx)

    async def run(self, job: CheckJob | ExplainJob, ctx: JobContext) -> dict[str, Any]:
        started = time.monotonic()
        outcome = "error"
        try:
            if isinstance(job, ExplainJob):
                result = await self._run_explain(job)
            else:
                result = await self._run_check(job, ctx, started)
            outcome = str(result.get("outcome", "done"))
            return result
        finally:
            if self.metrics is not None:
                self.metrics.jobs.labels(kind=job.kind, outcome=outcome).inc()
                self.metrics.job_seconds.labels(kind=job.kind).observe(time.monotonic() - started)

    # -------------------------------------------------------------------------- check

    async def _run_check(self, job: CheckJob, ctx: JobContext, started: float) -> dict[str, Any]:
        tr = Translator(job.requester.locale)
        try:
            thread, status_ts = await self._open(job, tr)
        except SlackApiError as exc:
            error = slack_error(exc)
            await self._tell_requester(job.requester, cannot_post_text(tr, error))
            audit("job_finished", job=job.id, outcome="cannot_post", error=error)
            return {"outcome": "cannot_post", "error": error}
        audit(
            "job_started",
            job=job.id,
            user=job.requester.user,
            channel=thread.channel,
            account=job.account,
            function=job.function_ref,
            attempt=ctx.attempt,
        )
        try:
            snapshot, report = await self._diagnose_in_slot(job)
        except expected_errors() as exc:
            await self._fail(job, tr, thread, status_ts, str(exc))
            await self._fail_joiners(job, ctx, str(exc))
            audit("job_finished", job=job.id, outcome="refused", error=str(exc))
            return {"outcome": "refused", "error": str(exc)}
        except Exception as exc:
            if not ctx.final_attempt:
                raise
            log.exception("check %s failed", job.id)
            error = f"{type(exc).__name__}: {exc}"
            await self._fail(job, tr, thread, status_ts, error)
            await self._fail_joiners(job, ctx, error)
            audit("job_finished", job=job.id, outcome="error", error=error)
            return {"outcome": "error", "error": error}
        refused: str | None = None
        try:
            await self._present(
                job,
                tr,
                thread=thread,
                status_ts=status_ts,
                snapshot=snapshot,
                report=report,
                started=started,
            )
        except SlackApiError as exc:
            refused = slack_error(exc)
            log.warning("Slack refused the results of %s: %s", job.id, refused)
            await self._tell_requester(job.requester, post_failed_text(tr, job, refused))
        joiners = await ctx.take_joiners(False)
        while joiners:
            await self._present_joiners(job, joiners, snapshot, report)
            joiners = await ctx.take_joiners(False)
        await self._present_joiners(job, await ctx.take_joiners(True), snapshot, report)
        outcome = "done" if refused is None else "slack_error"
        audit(
            "job_finished",
            job=job.id,
            outcome=outcome,
            fail=report.summary.fail,
            warn=report.summary.warn,
            thread=thread.key,
            error=refused,
        )
        return {
            "outcome": outcome,
            "thread": thread.model_dump(),
            "fail": report.summary.fail,
            "error": refused,
        }

    async def _open(self, job: CheckJob, tr: Translator) -> tuple[ThreadRef, str]:
        """Post the parent (or the Rerun status reply); reuse it when a job is resumed."""
        resumed = await self.store.get_progress(job.id)
        if resumed is not None:
            await self._post(
                resumed.channel, resumed.thread_ts, m.note_message(tr("parent.resumed")), tr
            )
            thread = job.rerun_of or resumed
            return thread, resumed.parent_ts
        if job.rerun_of is not None:
            thread = job.rerun_of
            status_ts = await self._post(
                thread.channel, thread.thread_ts, m.rerun_checking(tr, job.requester.user), tr
            )
            await self.store.set_progress(
                job.id,
                ThreadRef(channel=thread.channel, thread_ts=thread.thread_ts, parent_ts=status_ts),
            )
            return thread, status_ts
        req = job.requester
        message = m.parent_checking(tr, job.function_ref, req.user)
        ts = await self._post(req.channel, req.thread_ts, message, tr)
        thread = ThreadRef(channel=req.channel, thread_ts=req.thread_ts or ts, parent_ts=ts)
        await self.store.set_progress(job.id, thread)
        return thread, ts

    async def _diagnose_in_slot(self, job: CheckJob) -> tuple[Snapshot, Report]:
        account = job.account or "unknown"
        while True:
            if await self.store.acquire_slot(
                account, job.id, self.account_concurrency, self.slot_lease
            ):
                break
            await asyncio.sleep(0.25)
        try:
            return await self.diagnose(job)
        finally:
            await self.store.release_slot(account, job.id)

    async def _present(
        self,
        job: CheckJob,
        tr: Translator,
        *,
        thread: ThreadRef,
        status_ts: str,
        snapshot: Snapshot,
        report: Report,
        started: float | None = None,
    ) -> None:
        previous = await self.store.load_result(thread.key) if job.rerun_of else None
        # kept first: Export and Rerun work even when Slack refuses part of the thread
        await self.store.save_result(
            StoredResult(
                thread=thread,
                function_ref=job.function_ref,
                account=job.account or report.account,
                requested_by=job.requester.user,
                report=report,
                snapshot=snapshot,
            )
        )
        first = True
        for message in m.report_messages(tr, report):
            await self._post(thread.channel, thread.thread_ts, message, tr)
            if first and started is not None and self.metrics is not None:
                self.metrics.first_finding_seconds.observe(time.monotonic() - started)
            first = False
        if job.rerun_of is not None:
            diff = m.diff_findings(previous.report, report) if previous else None
            diff_messages = m.diff_message(tr, diff, job.requester.user)
            await self._update(thread, status_ts, diff_messages[0], tr)
            for message in diff_messages[1:]:
                await self._post(thread.channel, thread.thread_ts, message, tr)
        value = ButtonValue(thread=thread, function_ref=job.function_ref, account=job.account)
        await self._update(
            thread, thread.parent_ts, m.parent_done(tr, report, job.requester.user, value), tr
        )

    def _same_destination(self, a: CheckJob, b: CheckJob) -> bool:
        return (
            a.requester.channel == b.requester.channel
            and a.requester.thread_ts == b.requester.thread_ts
            and a.rerun_of == b.rerun_of
        )

    async def _present_joiners(
        self, job: CheckJob, joiners: list[CheckJob], snapshot: Snapshot, report: Report
    ) -> None:
        for joiner in joiners:
            if self._same_destination(job, joiner):
                continue
            tr = Translator(joiner.requester.locale)
            try:
                thread, status_ts = await self._open(joiner, tr)
            except SlackApiError as exc:
                error = slack_error(exc)
                await self._tell_requester(joiner.requester, cannot_post_text(tr, error))
                audit(
                    "job_joined", job=joiner.id, joined=job.id, outcome="cannot_post", error=error
                )
                continue
            try:
                await self._present(
                    joiner,
                    tr,
                    thread=thread,
                    status_ts=status_ts,
                    snapshot=snapshot,
                    report=report,
                )
            except SlackApiError as exc:
                error = slack_error(exc)
                await self._tell_requester(joiner.requester, post_failed_text(tr, joiner, error))
            audit(
                "job_joined",
                job=joiner.id,
                joined=job.id,
                channel=thread.channel,
                user=joiner.requester.user,
                function=joiner.function_ref,
            )

    async def _fail_joiners(self, job: CheckJob, ctx: JobContext, error: str) -> None:
        for joiner in await ctx.take_joiners(True):
            if self._same_destination(job, joiner):
                continue
            tr = Translator(joiner.requester.locale)
            try:
                thread, status_ts = await self._open(joiner, tr)
                await self._fail(joiner, tr, thread, status_ts, error)
            except SlackApiError as exc:
                refused = slack_error(exc)
                await self._tell_requester(joiner.requester, cannot_post_text(tr, refused))

    async def _fail(
        self, job: CheckJob, tr: Translator, thread: ThreadRef, status_ts: str, error: str
    ) -> None:
        value = ButtonValue(thread=thread, function_ref=job.function_ref, account=job.account)
        try:
            await self._update(
                thread,
                status_ts,
                m.parent_failed(tr, job.function_ref, job.requester.user, error, value),
                tr,
            )
        except SlackApiError as exc:
            refused = slack_error(exc)
            await self._tell_requester(
                job.requester,
                f"{tr('parent.failed', error=error)}\n{cannot_post_text(tr, refused)}",
            )

    # -------------------------------------------------------------------------- explain

    async def _run_explain(self, job: ExplainJob) -> dict[str, Any]:
        tr = Translator(job.requester.locale)
        try:
            return await self._explain(job, tr)
        except SlackApiError as exc:
            error = slack_error(exc)
            await self._tell_requester(job.requester, cannot_post_text(tr, error))
            audit("job_finished", job=job.id, outcome="cannot_post", error=error)
            return {"outcome": "cannot_post", "error": error}

    async def _explain(self, job: ExplainJob, tr: Translator) -> dict[str, Any]:
        req = job.requester
        if self.explain is None:
            note = m.note_message(tr("error.no_explainer"))
            await self._post(req.channel, req.thread_ts, note, tr)
            return {"outcome": "refused"}
        try:
            outcome = await self.explain(job)
        except expected_errors() as exc:
            outcome = ExplainOutcome(parsed=None, error=str(exc))
        except Exception as exc:
            log.exception("explain %s failed", job.id)
            outcome = ExplainOutcome(parsed=None, error=f"{type(exc).__name__}: {exc}")
        if outcome.parsed is None and outcome.error is None:
            await self._post(
                req.channel, req.thread_ts, m.note_message(tr("error.not_access_error")), tr
            )
            return {"outcome": "refused"}
        answer = m.explain_messages(tr, outcome.parsed or {}, outcome.findings, outcome.error)
        ts = await self._post(req.channel, req.thread_ts, answer[0], tr)
        thread_ts = req.thread_ts or ts
        for message in answer[1:]:
            await self._post(req.channel, thread_ts, message, tr)
        audit("job_finished", job=job.id, outcome="explained", findings=len(outcome.findings))
        return {"outcome": "done", "findings": len(outcome.findings)}

    # -------------------------------------------------------------------------- Slack I/O

    async def _tell_requester(self, req: Requester, text: str) -> None:
        """Say something only the requester sees (the channel may not be postable): through
        the request's `response_url`, else an ephemeral message. If Slack refuses both, the
        failure is logged and audited: there is no one else to tell."""
        if req.response_url and await respond(req.response_url, text):
            return
        try:
            await self.client.chat_postEphemeral(
                channel=req.channel, user=req.user, thread_ts=req.thread_ts, text=text
            )
        except (SlackClientError, OSError) as exc:
            error = slack_error(exc) if isinstance(exc, SlackClientError) else str(exc)
            log.error("could not tell %s in %s: %s (%s)", req.user, req.channel, text, error)
            audit("notice_lost", user=req.user, channel=req.channel, error=error)

    async def _post(
        self, channel: str, thread_ts: str | None, message: m.SlackMessage, tr: Translator
    ) -> str:
        """Post one message (and its files); returns its ts. Slack refusing the blocks
        (`invalid_blocks`, `msg_blocks_too_long`, ...) posts the content as plain text."""
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=message.text,
                blocks=message.block_dicts(),
                unfurl_links=False,
                unfurl_media=False,
            )
            ts = str(response["ts"])
        except SlackApiError as exc:
            error = slack_error(exc)
            if error not in CONTENT_ERRORS:
                raise
            log.warning("Slack refused a message in %s (%s): posting it as text", channel, error)
            ts = await self._post_plain(channel, thread_ts, message, tr, error)
        for upload in message.files:
            await self._upload(channel, thread_ts or ts, upload, tr)
        return ts

    async def _post_plain(
        self,
        channel: str,
        thread_ts: str | None,
        message: m.SlackMessage,
        tr: Translator,
        error: str,
    ) -> str:
        first: str | None = None
        for piece in m.plain_messages(message, tr("reply.plain", error=error)):
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts or first,
                text=piece,
                unfurl_links=False,
                unfurl_media=False,
            )
            first = first or str(response["ts"])
        assert first is not None
        return first

    async def _upload(
        self, channel: str, thread_ts: str, upload: m.SlackFile, tr: Translator
    ) -> None:
        try:
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=upload.content,
                filename=upload.filename,
                title=upload.title,
            )
        except SlackClientError as exc:
            error = slack_error(exc)
            if isinstance(exc, SlackApiError) and error in MEMBERSHIP_ERRORS:
                raise
            log.warning("upload of %s refused: %s", upload.filename, error)
            note = tr("reply.file_failed", filename=upload.filename, error=error)
            await self._post(channel, thread_ts, m.note_message(note), tr)

    async def _update(
        self, thread: ThreadRef, ts: str, message: m.SlackMessage, tr: Translator
    ) -> None:
        """Replace the message `ts` of `thread`. When it is gone (or Slack refuses the new
        content), the message is posted as a reply in the thread instead, with a note."""
        try:
            await self.client.chat_update(
                channel=thread.channel, ts=ts, text=message.text, blocks=message.block_dicts()
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            if error not in GONE_ERRORS | CONTENT_ERRORS:
                raise
            log.warning("chat.update of %s refused (%s): posting in the thread", ts, error)
            for part in m.with_note(message, tr("reply.update_failed", error=error)):
                await self._post(thread.channel, thread.thread_ts, part, tr)
            return
        for upload in message.files:
            await self._upload(thread.channel, thread.thread_ts, upload, tr)


def cannot_post_text(tr: Translator, error: str) -> str:
    """Why nothing could be posted: membership errors say how to invite the bot."""
    if error in MEMBERSHIP_ERRORS:
        return tr("error.cannot_post", error=error)
    return tr("error.slack", error=error)


def post_failed_text(tr: Translator, job: CheckJob, error: str) -> str:
    text = tr("error.post_failed", function=job.function_ref, error=error)
    if error in MEMBERSHIP_ERRORS:
        text += " " + tr("error.invite_hint")
    return text
