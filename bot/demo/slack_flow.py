"""The demo's Slack half: the real Bolt app against a local Slack Web API double.

The app is `bot.web.build_web_app` — the same composition `lambda-why serve` uses — served
on 127.0.0.1 with its in-process job queue; it reaches AWS through the process environment
that `bot.demo.run` points at moto. `SlackSender` posts correctly signed slash commands and
button clicks to `/slack/events`; everything the app says goes to `SlackDouble`, whose
recorded messages and uploads are printed as threads and written as bundles.

The script: a malformed `/lambda-why` (an ephemeral answer); `/lambda-why <arn>` per
scenario → a thread each. On one broken function **Escalate** is clicked and the modal
submitted (→ a post in the escalation channel); **Export** is clicked on every thread with
a failure or warning and the uploaded `.zip` saved; finally one problem is fixed in moto
and **Rerun** shows it fixed in the same thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bot.config import FileConfig
from bot.demo import render
from bot.demo.run import (
    DEMO_CHANNEL,
    DEMO_ESCALATION_CHANNEL,
    FAKE_SLACK_SIGNING_SECRET,
    ScenarioResult,
    demo_settings,
    missing_expectations,
)
from bot.demo.scenarios import Scenario, remedy
from bot.slack.actions import ActionId
from bot.slack.double import Message, SlackDouble, SlackSender, Upload
from bot.slack.refs import ThreadRef
from bot.web import SERVICES, Services, build_web_app

DEMO_USER = "U0ALICE"
#: the scenario whose problem is fixed before Rerun is clicked, in order of preference
RERUN_KEYS = ("trust-wrong", "vpc-no-eni", "xray-no-permission")
#: the scenario that is escalated, in order of preference
ESCALATE_KEYS = ("kms-env", "sqs-no-receive", "vpc-boundary")
#: the escalation modal's answers the demo submits
ESCALATION_ANSWERS = {
    "pattern": "continuous",
    "started": "about 40 minutes ago, after the payroll deploy",
    "impact": "payroll exports have stopped; finance is waiting for the nightly file",
    "notes": "started after the key policy was tightened",
}
#: the function mentioned in an incident thread, in order of preference
MENTION_KEYS = ("events-no-permission", "sqs-no-receive", "vpc-boundary")
INCIDENT_CHANNEL = "C0INCIDENT"
INCIDENT_TS = "1700000000.000100"
INCIDENT_ALERT = (
    "ALARM: {name}-errors in us-east-1 — Errors > 0 for 3 datapoints within 15 minutes "
    "(posted by AWS Chatbot)"
)
#: how long to wait for one thing the app does (a post, a modal, an upload)
STEP_TIMEOUT = 20.0


@dataclass
class Thread:
    scenario: Scenario
    ref: ThreadRef
    ack: dict[str, Any]
    #: uploads into the thread, each with the number of replies posted before it
    uploads: list[tuple[int, Upload]] = field(default_factory=list)


@asynccontextmanager
async def serving(config: Path, double: SlackDouble) -> AsyncIterator[tuple[Services, str]]:
    """The lambda-why web app on 127.0.0.1:<free port>; yields its services and Slack URL."""
    settings = demo_settings(config, slack_api_url=double.url)
    app = build_web_app(settings, FileConfig.load(config))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1]
    try:
        yield app[SERVICES], f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()


def _roots(double: SlackDouble, channel: str) -> list[Message]:
    return [m for m in double.messages.values() if m.channel == channel and m.thread_ts is None]


def _as_event(message: Message) -> dict[str, Any]:
    return {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks}


def _as_dict(message: Message) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks}


async def run_slack_flow(
    scenarios: Sequence[Scenario], config: Path, out_dir: Path, out: TextIO
) -> list[ScenarioResult]:
    """Drive the Slack app through every scenario; print the threads; save the bundles."""
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            f'[escalation]\nchannel = "{DEMO_ESCALATION_CHANNEL}"\nmention = "S0ONCALL"\n\n'
            "[slack]\nrate_limit_per_minute = 1000\n"
        )
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        async with (
            SlackDouble() as double,
            serving(config, double) as (services, url),
            SlackSender(url, FAKE_SLACK_SIGNING_SECRET, double=double) as sender,
        ):
            return await _script(
                scenarios, services=services, double=double, sender=sender, out_dir=out_dir, out=out
            )
    finally:
        quiet.setLevel(level)


async def _command(
    scenario: Scenario, services: Services, double: SlackDouble, sender: SlackSender
) -> Thread:
    before = {m.ts for m in _roots(double, DEMO_CHANNEL)}
    reply = await sender.command(scenario.function_arn, user=DEMO_USER, channel=DEMO_CHANNEL)
    if reply.status != 200:
        raise RuntimeError(f"/lambda-why answered HTTP {reply.status}: {reply.body[:200]}")
    await services.drain()
    new = [m for m in _roots(double, DEMO_CHANNEL) if m.ts not in before]
    if len(new) != 1:
        raise RuntimeError(f"expected one new thread for {scenario.function_name}, got {len(new)}")
    ts = new[0].ts
    return Thread(
        scenario, ThreadRef(channel=DEMO_CHANNEL, thread_ts=ts, parent_ts=ts), reply.json() or {}
    )


async def _script(
    scenarios: Sequence[Scenario],
    *,
    services: Services,
    double: SlackDouble,
    sender: SlackSender,
    out_dir: Path,
    out: TextIO,
) -> list[ScenarioResult]:
    # a bad request first: an ephemeral answer, nothing queued
    bad = await sender.command("not a function!", user=DEMO_USER, channel=DEMO_CHANNEL)
    threads = [await _command(s, services, double, sender) for s in scenarios]
    results: dict[str, ScenarioResult] = {}
    for thread in threads:
        stored = await services.store.load_result(thread.ref.key)
        result = ScenarioResult(thread.scenario)
        if stored is None:
            result.error = "no result was stored for the thread"
        else:
            result.report = stored.report
            result.missing = missing_expectations(thread.scenario, stored.report)
        if thread.scenario.scan_triggers:
            result.note = (
                "its trigger is only found by scanning the region (`lambda-why check "
                "--scan-triggers`, or `lambda-why demo --no-slack`); Slack checks read "
                "triggers from the function's side"
            )
        results[thread.scenario.key] = result
    broken = [t for t in threads if _has_problems(results[t.scenario.key])]

    # Escalate: open the modal, submit it
    escalated = _pick(broken, ESCALATE_KEYS)
    if escalated is not None:
        await _escalate(double, sender, escalated)

    # Export every thread with a failure or warning
    for thread in broken:
        path = await _export(double, sender, thread, out_dir)
        results[thread.scenario.key].bundle = path

    # @lambda-why in an incident thread: the answer goes in that thread
    mentioned = _pick(broken, MENTION_KEYS)
    if mentioned is not None:
        await _mention(services, double, sender, mentioned.scenario)

    # Rerun after a fix (after the exports: the bundles show the problem)
    rerun = _pick(broken, RERUN_KEYS)
    if rerun is not None:
        await remedy(_endpoint(), rerun.scenario)
        first = results[rerun.scenario.key].report
        await _click(double, sender, rerun, ActionId.RERUN)
        await _rerun_done(services, rerun, first.checked_at if first else None)

    render.ephemeral_reply(out, "/lambda-why not a function!", bad.json() or {})
    for thread in threads:
        _print_thread(out, double, thread, results[thread.scenario.key])
    if mentioned is not None:
        _print_incident(out, double, mentioned.scenario)
    escalation_posts = [m for m in double.messages.values() if m.channel == DEMO_ESCALATION_CHANNEL]
    for post in escalation_posts:
        render.thread(out, f"#escalations ({DEMO_ESCALATION_CHANNEL})", _as_dict(post), [])
    return [results[t.scenario.key] for t in threads]


async def _rerun_done(services: Services, thread: Thread, previous: datetime | None) -> None:
    """Wait until the Rerun's result replaced the first one, then for its posts."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        await services.drain()
        stored = await services.store.load_result(thread.ref.key)
        if stored is not None and (previous is None or stored.report.checked_at > previous):
            await services.drain()
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"Rerun of {thread.scenario.function_name} did not finish")


def _has_problems(result: ScenarioResult) -> bool:
    report = result.report
    return report is not None and (report.summary.fail > 0 or report.summary.warn > 0)


def _pick(threads: Sequence[Thread], keys: Sequence[str]) -> Thread | None:
    for key in keys:
        for thread in threads:
            if thread.scenario.key == key:
                return thread
    return None


def _endpoint() -> str:
    """The moto endpoint `bot.demo.run.demo_environment` set for this process."""
    return os.environ["AWS_ENDPOINT_URL"]


def _parent(double: SlackDouble, thread: Thread) -> Message:
    return next(m for m in double.messages.values() if m.ts == thread.ref.parent_ts)


async def _click(
    double: SlackDouble, sender: SlackSender, thread: Thread, action: ActionId
) -> None:
    reply = await sender.click(
        _as_event(_parent(double, thread)), action.value, user=DEMO_USER, channel=DEMO_CHANNEL
    )
    if reply.status != 200:
        raise RuntimeError(f"{action.name} answered HTTP {reply.status}: {reply.body[:200]}")


async def _escalate(double: SlackDouble, sender: SlackSender, thread: Thread) -> None:
    opened_before = len(double.calls_to("views.open"))
    await _click(double, sender, thread, ActionId.ESCALATE)
    calls = await double.wait_for(
        lambda: double.calls_to("views.open")[opened_before:], within=STEP_TIMEOUT, what="modal"
    )
    view = calls[0].json_param("view")
    values = {
        "pattern": {
            "pattern": {
                "type": "radio_buttons",
                "selected_option": {"value": ESCALATION_ANSWERS["pattern"]},
            }
        },
        **{
            name: {name: {"type": "plain_text_input", "value": ESCALATION_ANSWERS[name]}}
            for name in ("started", "impact", "notes")
        },
    }
    posted_before = len(double.calls_to("chat.postMessage"))
    reply = await sender.submit_view(view, values, user=DEMO_USER)
    if reply.status != 200:
        raise RuntimeError(f"escalation submit answered HTTP {reply.status}: {reply.body[:200]}")
    # the escalation post and the note in the thread
    await double.wait_for(
        lambda: len(double.calls_to("chat.postMessage")) >= posted_before + 2,
        within=STEP_TIMEOUT,
        what="escalation posts",
    )


async def _mention(
    services: Services, double: SlackDouble, sender: SlackSender, scenario: Scenario
) -> None:
    """`@lambda-why can you look at <arn>?` as a reply in an alarm's incident thread."""
    reply = await sender.mention(
        f"can you look at {scenario.function_arn}?",
        user="U0BOB",
        channel=INCIDENT_CHANNEL,
        ts="1700000000.000200",
        thread_ts=INCIDENT_TS,
    )
    if reply.status != 200:
        raise RuntimeError(f"the mention answered HTTP {reply.status}: {reply.body[:200]}")
    await double.wait_for(
        lambda: double.thread(INCIDENT_CHANNEL, INCIDENT_TS),
        within=STEP_TIMEOUT,
        what="the answer in the incident thread",
    )
    await services.drain()


def _print_incident(out: TextIO, double: SlackDouble, scenario: Scenario) -> None:
    alert = {"text": INCIDENT_ALERT.format(name=scenario.function_name)}
    mention = {"text": f"<@U0BOB>: @lambda-why can you look at {scenario.function_arn}?"}
    replies = [mention] + [_as_dict(m) for m in double.thread(INCIDENT_CHANNEL, INCIDENT_TS)]
    render.thread(out, f"#incident-4711 · @lambda-why in a thread ({scenario.key})", alert, replies)


async def _export(
    double: SlackDouble, sender: SlackSender, thread: Thread, out_dir: Path
) -> Path | None:
    before = len(double.completed_uploads())
    await _click(double, sender, thread, ActionId.EXPORT)
    uploads = await double.wait_for(
        lambda: double.completed_uploads()[before:], within=STEP_TIMEOUT, what="bundle upload"
    )
    upload = uploads[0]
    replies = len(double.thread(DEMO_CHANNEL, thread.ref.thread_ts)) - 1
    thread.uploads.append((replies, upload))
    path = out_dir / Path(upload.filename).name
    await asyncio.to_thread(path.write_bytes, upload.content)
    return path


def _print_thread(out: TextIO, double: SlackDouble, thread: Thread, result: ScenarioResult) -> None:
    messages = double.thread(DEMO_CHANNEL, thread.ref.thread_ts)
    parent = next(m for m in messages if m.ts == thread.ref.parent_ts)
    replies = [_as_dict(m) for m in messages if m.ts != parent.ts]
    for position, upload in reversed(thread.uploads):
        file = {"name": upload.filename, "title": upload.title, "size": len(upload.content)}
        replies.insert(position, {"text": upload.initial_comment or "", "files": [file]})
    ack = [thread.ack] if thread.ack else []
    render.thread(
        out,
        f"#ops · /lambda-why {thread.scenario.function_name} ({thread.scenario.key})",
        _as_dict(parent),
        replies,
        ephemeral=ack,
    )
    render.expectation(out, result)
    if result.bundle is not None:
        out.write(f"  support bundle saved: {result.bundle}\n")
    out.write("\n")
