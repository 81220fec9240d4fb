"""End to end through signed HTTP requests, the Bolt app and the Slack double (no Redis)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from bot.config import EscalationConfig, FileConfig, SlackFileConfig
from bot.report import Status
from bot.slack.actions import ActionId
from bot.slack.double import SlackDouble

from .conftest import (
    FUNCTION,
    OWN_ACCOUNT,
    TOKEN,
    FakeDiagnosis,
    Served,
    config_with,
    finding,
    serve,
)

CHANNEL = "C0INCIDENT"


def parent_of(double: SlackDouble, channel: str = CHANNEL) -> Any:
    roots = [m for m in double.messages.values() if m.channel == channel and m.thread_ts is None]
    assert len(roots) == 1, [m.text for m in roots]
    return roots[0]


def as_event_message(message: Any) -> dict[str, Any]:
    return {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks}


def button_texts(message: Any) -> dict[str, str]:
    found = {}
    for block in message.blocks:
        if block["type"] == "actions":
            for element in block["elements"]:
                found[element["action_id"]] = element["text"]["text"]
    return found


def all_text(message: Any) -> str:
    return json.dumps(message.blocks, ensure_ascii=False) + message.text


async def test_command_parent_thread_summary_buttons(served: Served) -> None:
    reply = await served.sender.command(FUNCTION)
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "Checking" in body["text"]
    assert FUNCTION in body["text"]
    await served.drain()
    double = served.double
    parent = parent_of(double)
    first_post = double.calls_to("chat.postMessage")[0]
    assert first_post.params["channel"] == CHANNEL
    assert "Checking" in json.dumps(first_post.params["blocks"])
    assert "<@U0ALICE>" in json.dumps(first_post.params["blocks"])
    thread = double.thread(CHANNEL, parent.ts)
    replies = [m for m in thread if m.ts != parent.ts]
    assert replies
    assert all(m.thread_ts == parent.ts for m in replies)
    failing = next(m for m in replies if "vpc-eni is fail" in m.text)
    text = all_text(failing)
    assert "ec2:CreateNetworkInterface" in text
    assert "```" in text  # the fix as a code block
    assert "aws iam put-role-policy" in text
    # the parent was updated with the summary and the three buttons
    assert parent.updates >= 1
    labels = button_texts(parent)
    assert "Rerun" in labels[ActionId.RERUN]
    assert "Escalate" in labels[ActionId.ESCALATE]
    assert "Export" in labels[ActionId.EXPORT]
    assert "1" in parent.text
    assert "fail" in parent.text.lower()
    # the token never appears in anything posted
    for call in double.calls:
        assert TOKEN not in json.dumps(call.params, default=str)
    assert all(call.token == TOKEN for call in double.calls if call.method != "upload")


async def test_passes_folded_into_one_reply(double: SlackDouble) -> None:
    diagnosis = FakeDiagnosis(
        [
            finding("vpc-eni", actions=["ec2:CreateNetworkInterface"]),
            finding("trust", Status.PASS),
            finding("logs", Status.PASS),
            finding("xray", Status.WARN),
        ]
    )
    app = await serve(double, diagnosis=diagnosis)
    try:
        await app.sender.command(FUNCTION)
        await app.drain()
        parent = parent_of(double)
        replies = [m for m in double.thread(CHANNEL, parent.ts) if m.ts != parent.ts]
        passes = [m for m in replies if "trust is pass" in all_text(m)]
        assert len(passes) == 1
        assert "logs is pass" in all_text(passes[0])
        assert any("xray is warn" in m.text for m in replies)
    finally:
        await app.close()


async def test_rerun_diff_in_same_thread(double: SlackDouble) -> None:
    diagnosis = FakeDiagnosis(
        [
            finding("vpc-eni", actions=["ec2:CreateNetworkInterface"]),
            finding("kms", actions=["kms:Decrypt"]),
        ],
        [
            finding("kms", actions=["kms:Decrypt"]),
            finding("sqs-esm", actions=["sqs:ReceiveMessage"]),
        ],
    )
    app = await serve(double, diagnosis=diagnosis)
    try:
        await app.sender.command(FUNCTION)
        await app.drain()
        parent = parent_of(double)
        reply = await app.sender.click(as_event_message(parent), ActionId.RERUN)
        assert reply.status == 200
        await double.wait_for(lambda: len(diagnosis.calls) == 2, what="rerun queued")
        await app.drain()
        assert parent_of(double).ts == parent.ts  # no new parent
        thread = double.thread(CHANNEL, parent.ts)
        diff = [m for m in thread if "previous run" in all_text(m)]
        assert len(diff) == 1
        text = all_text(diff[0])
        fixed_part, new_part = text.split("New since the previous run")
        assert "vpc-eni" in fixed_part
        assert "Fixed since the previous run" in fixed_part
        assert "sqs-esm" in new_part
        assert "Still failing or warning: 1" in text
        assert diagnosis.calls[1].rerun_of is not None
        assert diagnosis.calls[1].rerun_of.thread_ts == parent.ts
        # the parent shows the new result
        assert "Rerun" in button_texts(parent_of(double))[ActionId.RERUN]
    finally:
        await app.close()


async def test_escalate_modal_submit_and_export(double: SlackDouble) -> None:
    config = FileConfig(escalation=EscalationConfig(channel="C0ESCALATE", mention="S0ONCALL"))
    app = await serve(double, config=config)
    try:
        await app.sender.command(FUNCTION)
        await app.drain()
        parent = parent_of(double)
        await app.sender.click(as_event_message(parent), ActionId.ESCALATE)
        opened = await double.wait_for(lambda: double.calls_to("views.open"), what="views.open")
        view = opened[0].json_param("view")
        block_ids = [b.get("block_id") for b in view["blocks"]]
        assert {"pattern", "started", "impact", "notes"} <= set(block_ids)
        values = {
            "pattern": {
                "pattern": {"type": "radio_buttons", "selected_option": {"value": "continuous"}}
            },
            "started": {"started": {"type": "plain_text_input", "value": "2026-11-28 02:10 UTC"}},
            "impact": {"impact": {"type": "plain_text_input", "value": "orders are not processed"}},
            "notes": {"notes": {"type": "plain_text_input", "value": "since the deploy"}},
        }
        reply = await app.sender.submit_view(view, values)
        assert reply.status == 200
        escalations = await double.wait_for(
            lambda: [
                c
                for c in double.calls_to("chat.postMessage")
                if c.params["channel"] == "C0ESCALATE"
            ],
            what="escalation post",
        )
        post = json.dumps(escalations[0].params, ensure_ascii=False)
        assert "[escalation]" in post
        assert "<!subteam^S0ONCALL>" in post
        assert f"/archives/{CHANNEL}/p{parent.ts.replace('.', '')}" in post
        assert "continuous" in post
        assert "orders are not processed" in post
        assert double.calls_to("chat.getPermalink")
        # the thread says where it went
        await double.wait_for(
            lambda: any("C0ESCALATE" in m.text for m in double.thread(CHANNEL, parent.ts)),
            what="escalation note in the thread",
        )
        # Export: the bundle with the modal's answers
        await app.sender.click(as_event_message(parent_of(double)), ActionId.EXPORT)
        uploads = await double.wait_for(double.completed_uploads, what="bundle upload")
        upload = uploads[0]
        assert upload.filename.endswith(".zip")
        assert upload.channel == CHANNEL
        assert upload.thread_ts == parent.ts
        with zipfile.ZipFile(io.BytesIO(upload.content)) as archive:
            names = set(archive.namelist())
            assert {"summary.txt", "findings.json", "logs.txt", "snapshot.json"} <= names
            summary = archive.read("summary.txt").decode()
            assert FUNCTION in summary
            assert "continuous" in summary
            findings = json.loads(archive.read("findings.json"))
            assert findings["function"] == FUNCTION
        steps = [
            c.method for c in double.calls if c.method.startswith("files") or c.method == "upload"
        ]
        assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    finally:
        await app.close()


async def test_mention_in_incident_thread(served: Served) -> None:
    double = served.double
    incident = "1700000000.000001"
    reply = await served.sender.mention(
        f"can you look at {FUNCTION}?", ts="1700000100.000001", thread_ts=incident
    )
    assert reply.status == 200
    await double.wait_for(lambda: served.diagnosis.calls, what="job")
    await served.drain()
    posts = double.calls_to("chat.postMessage")
    assert posts
    assert all(p.params.get("thread_ts") == incident for p in posts)
    status = next(m for m in double.messages.values() if m.updates)
    assert status.thread_ts == incident
    assert "Rerun" in button_texts(status)[ActionId.RERUN]


async def test_mention_at_top_level_answers_in_its_own_thread(served: Served) -> None:
    double = served.double
    await served.sender.mention(FUNCTION, ts="1700000200.000001")
    await double.wait_for(lambda: served.diagnosis.calls, what="job")
    await served.drain()
    assert all(
        p.params.get("thread_ts") == "1700000200.000001"
        for p in double.calls_to("chat.postMessage")
    )


ALARM_MESSAGE = {
    "type": "message",
    "subtype": "bot_message",
    "ts": "1700000300.000100",
    "text": "",
    "attachments": [
        {
            "fallback": "CloudWatch Alarm | orders-errors | us-east-1 | Account: 111111111111",
            "title": "CloudWatch Alarm | orders-errors | us-east-1 | Account: 111111111111",
            "title_link": "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarm:alarmFilter=ANY;name=orders-errors",
            "text": "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).",
            "fields": [
                {"title": "Alarm Name", "value": "orders-errors", "short": True},
                {"title": "Dimensions", "value": "FunctionName = orders", "short": True},
                {
                    "title": "Alarm ARN",
                    "value": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:orders-errors",
                    "short": False,
                },
            ],
            "footer": "Amazon CloudWatch",
        }
    ],
}


async def test_shortcut_on_alarm_message(served: Served) -> None:
    double = served.double
    reply = await served.sender.message_shortcut(ALARM_MESSAGE)
    assert reply.status == 200
    await double.wait_for(lambda: served.diagnosis.calls, what="job")
    await served.drain()
    assert served.diagnosis.calls[0].function_ref == FUNCTION
    posts = double.calls_to("chat.postMessage")
    assert posts
    assert all(p.params.get("thread_ts") == ALARM_MESSAGE["ts"] for p in posts)


async def test_shortcut_without_function_answers_ephemerally(served: Served) -> None:
    double = served.double
    await served.sender.message_shortcut(
        {"type": "message", "ts": "1700000400.000100", "text": "lunch?"}
    )
    ephemeral = await double.wait_for(
        lambda: double.calls_to("chat.postEphemeral"), what="ephemeral"
    )
    assert "found no Lambda function" in ephemeral[0].params["text"]
    assert not served.diagnosis.calls
    assert not double.calls_to("chat.postMessage")


async def test_bad_input_ephemeral_nothing_queued(served: Served) -> None:
    for text in (
        "not a function at all!",
        "arn:aws:s3:::bucket",
        "explain",
        "explain the weather is nice",
    ):
        reply = await served.sender.command(text)
        body = reply.json()
        assert body["response_type"] == "ephemeral", text
        assert "/lambda-why" in body["text"], text  # how to call it
    await served.drain()
    assert not served.diagnosis.calls
    assert not served.double.calls_to("chat.postMessage")


async def test_help(served: Served) -> None:
    body = (await served.sender.command("help")).json()
    assert body["response_type"] == "ephemeral"
    assert "explain" in json.dumps(body["blocks"])
    assert not served.diagnosis.calls


async def test_unauthorized_channel_and_account(double: SlackDouble) -> None:
    config = config_with(**{f"a{OWN_ACCOUNT}": ["C0ALLOWED"]})
    app = await serve(double, config=config)
    try:
        body = (await app.sender.command(FUNCTION, channel="C0OTHER")).json()
        assert "may not check AWS account 111111111111" in body["text"]
        foreign = FUNCTION.replace(OWN_ACCOUNT, "222222222222")
        body = (await app.sender.command(foreign, channel="C0ALLOWED")).json()
        assert "not configured to check AWS account 222222222222" in body["text"]
        await app.drain()
        assert not app.diagnosis.calls
        assert not double.calls_to("chat.postMessage")
        body = (await app.sender.command(FUNCTION, channel="C0ALLOWED")).json()
        assert "Checking" in body["text"]
    finally:
        await app.close()


async def test_no_config_only_own_account(served: Served) -> None:
    foreign = FUNCTION.replace(OWN_ACCOUNT, "222222222222")
    body = (await served.sender.command(foreign)).json()
    assert "222222222222" in body["text"]
    assert "not configured" in body["text"]
    assert not served.diagnosis.calls


async def test_bare_name_uses_the_channels_account(double: SlackDouble) -> None:
    config = config_with(
        a222222222222=["C0TEAM"], a333333333333=["C0TEAM", "C0SHARED"], a444444444444=["C0SHARED"]
    )
    app = await serve(double, config=config)
    try:
        body = (await app.sender.command("orders", channel="C0TEAM")).json()
        assert "several AWS accounts" in body["text"]
        config.accounts["333333333333"].channels = ["C0SHARED"]
        body = (await app.sender.command("orders:live", channel="C0TEAM")).json()
        assert "Checking" in body["text"]
        await app.drain()
        assert app.diagnosis.calls[0].function_ref == "222222222222:function:orders:live"
    finally:
        await app.close()


async def test_console_url(served: Served) -> None:
    url = "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders?tab=code"
    body = (await served.sender.command(f"<{url}>")).json()
    assert "Checking" in body["text"]
    await served.drain()
    assert served.diagnosis.calls[0].function_ref == FUNCTION


async def test_slack_retries_never_queue_twice(served: Served) -> None:
    sender = served.sender
    payments = FUNCTION.replace("orders", "payments")
    await sender.mention(FUNCTION, ts="1700000500.000001", event_id="Ev0RETRY")
    retry = await sender.mention(
        FUNCTION,
        ts="1700000500.000001",
        event_id="Ev0RETRY",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status == 200
    body = sender.command_body(payments, channel="C0RETRY")
    await sender.post(body, "application/x-www-form-urlencoded")
    again = await sender.post(
        body, "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"}
    )
    assert again.status == 200
    await served.drain()
    assert sorted(c.function_ref for c in served.diagnosis.calls) == [FUNCTION, payments]
    parents = [
        c for c in served.double.calls_to("chat.postMessage") if "Checking" in json.dumps(c.params)
    ]
    assert len(parents) == 2


async def test_unsigned_request_is_refused(served: Served) -> None:
    body = served.sender.command_body(FUNCTION)
    reply = await served.sender.post(
        body, "application/x-www-form-urlencoded", signature_secret="wrong"
    )
    assert reply.status == 401
    await served.drain()
    assert not served.diagnosis.calls


async def test_japanese_locale(double: SlackDouble) -> None:
    double.locales["U0KENJI"] = "ja-JP"
    app = await serve(double)
    try:
        body = (await app.sender.command(FUNCTION, user="U0KENJI")).json()
        assert "診断しています" in body["text"]
        await app.drain()
        parent = parent_of(double)
        labels = button_texts(parent)
        assert labels[ActionId.RERUN].startswith("再実行")
        assert "失敗" in all_text(parent)
        assert len(double.calls_to("users.info")) == 1  # cached per user
        await app.sender.command("help", user="U0KENJI")
        assert len(double.calls_to("users.info")) == 1
    finally:
        await app.close()


async def test_locale_override_in_config(double: SlackDouble) -> None:
    app = await serve(double, config=FileConfig(slack=SlackFileConfig(locale="ja")))
    try:
        body = (await app.sender.command("help")).json()
        assert "使い方" in json.dumps(body, ensure_ascii=False)
        assert not double.calls_to("users.info")
    finally:
        await app.close()


async def test_rate_limit_is_polite(double: SlackDouble) -> None:
    app = await serve(double, config=FileConfig(slack=SlackFileConfig(rate_limit_per_minute=2)))
    try:
        for index in range(2):
            body = (await app.sender.command(FUNCTION, channel=f"C0RATE{index}")).json()
            assert "Checking" in body["text"] or "already running" in body["text"]
        body = (await app.sender.command(FUNCTION, channel="C0RATE9")).json()
        assert "Please wait a moment" in body["text"]
    finally:
        await app.close()


async def test_running_check_is_joined(double: SlackDouble) -> None:
    diagnosis = FakeDiagnosis(delay=0.5)
    app = await serve(double, diagnosis=diagnosis)
    try:
        first = (await app.sender.command(FUNCTION, channel="C0FIRST")).json()
        second = (await app.sender.command(FUNCTION, channel="C0SECOND", user="U0BOB")).json()
        assert "Checking" in first["text"]
        assert "already running" in second["text"]
        await app.drain()
        assert len(diagnosis.calls) == 1
        for channel in ("C0FIRST", "C0SECOND"):
            parent = parent_of(double, channel)
            assert "Rerun" in button_texts(parent)[ActionId.RERUN]
            assert len(double.thread(channel, parent.ts)) > 1
    finally:
        await app.close()


async def test_failed_check_says_why(double: SlackDouble) -> None:
    from bot.aws.errors import FunctionNotFound

    class Missing(FakeDiagnosis):
        async def __call__(self, job: Any) -> Any:
            self.calls.append(job)
            raise FunctionNotFound("orders", OWN_ACCOUNT, "us-east-1")

    app = await serve(double, diagnosis=Missing())
    try:
        await app.sender.command(FUNCTION)
        await app.drain()
        parent = parent_of(double)
        assert "not found" in all_text(parent)
        assert "Rerun" in button_texts(parent)[ActionId.RERUN]
    finally:
        await app.close()


async def test_channel_the_bot_cannot_post_in(served: Served) -> None:
    double = served.double
    double.failures["chat.postMessage"] = "not_in_channel"
    await served.sender.command(FUNCTION)
    await served.drain()
    [response] = double.responses
    assert "not_in_channel" in response["text"]
    assert "/invite" in response["text"]
    assert response["response_type"] == "ephemeral"


async def test_users_info_failure_falls_back_to_english(served: Served) -> None:
    served.double.failures["users.info"] = "user_not_found"
    body = (await served.sender.command("help")).json()
    assert "explain" in body["text"] or "explain" in json.dumps(body["blocks"])


DENIED = (
    "An error occurred (AccessDeniedException) when calling the ReceiveMessage operation: "
    "User: arn:aws:sts::111111111111:assumed-role/orders-role/orders is not authorized to "
    "perform: sqs:ReceiveMessage on resource: arn:aws:sqs:us-east-1:111111111111:orders "
    "because no identity-based policy allows the sqs:ReceiveMessage action"
)


async def test_explain_command_and_mention(double: SlackDouble) -> None:
    from bot.worker import ExplainOutcome

    seen: list[Any] = []

    async def explain(job: Any) -> ExplainOutcome:
        from bot.explain.parser import parse_message

        seen.append(job)
        parsed = parse_message(job.message)
        assert parsed is not None
        return ExplainOutcome(
            parsed=parsed.contract_dict(),
            findings=[finding("explain", actions=["sqs:ReceiveMessage"])],
        )

    app = await serve(double, explain=explain)
    try:
        body = (await app.sender.command(f"explain {DENIED}")).json()
        assert "Explaining" in body["text"]
        await app.drain()
        root = parent_of(double)
        assert "sqs:ReceiveMessage" in all_text(root)
        assert "implicit_deny" in all_text(root)
        replies = [m for m in double.thread(CHANNEL, root.ts) if m.ts != root.ts]
        assert any("explain is fail" in m.text for m in replies)
        # a mention carrying the error is explained in the mention's thread
        await app.sender.mention(f"help? {DENIED}", ts="1700000900.000001", channel="C0OTHER")
        await double.wait_for(lambda: len(seen) == 2, what="explain job")
        await app.drain()
        posts = [c for c in double.calls_to("chat.postMessage") if c.params["channel"] == "C0OTHER"]
        assert posts
        assert all(p.params.get("thread_ts") == "1700000900.000001" for p in posts)
        # an explain naming an account the channel may not check is refused
        foreign = DENIED.replace("111111111111", "222222222222")
        body = (await app.sender.command(f"explain {foreign}")).json()
        assert "222222222222" in body["text"]
        assert len(seen) == 2
    finally:
        await app.close()


async def test_per_account_concurrency_limit(double: SlackDouble) -> None:
    running = 0
    peak = 0

    class Counting(FakeDiagnosis):
        async def __call__(self, job: Any) -> Any:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                return await super().__call__(job)
            finally:
                running -= 1

    diagnosis = Counting(delay=0.2)
    config = FileConfig(slack=SlackFileConfig(account_concurrency=1, rate_limit_per_minute=0))
    app = await serve(double, diagnosis=diagnosis, config=config)
    try:
        for name in ("a", "b", "c"):
            await app.sender.command(FUNCTION.replace("orders", name), channel=f"C0{name.upper()}")
        await app.drain()
        assert len(diagnosis.calls) == 3
        assert peak == 1
    finally:
        await app.close()


async def test_one_audit_line_per_request(served: Served, caplog: Any) -> None:
    caplog.set_level("INFO", logger="lambda_why.audit")
    await served.sender.command(FUNCTION)
    await served.sender.command("nonsense!")
    await served.drain()
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "lambda_why.audit"]
    requests = [r for r in records if r["event"] == "request"]
    assert [r["outcome"] for r in requests] == ["queued", "bad_ref"]
    assert requests[0]["user"] == "U0ALICE"
    assert requests[0]["channel"] == CHANNEL
    assert requests[0]["account"] == OWN_ACCOUNT
    assert requests[0]["function"] == FUNCTION
    assert requests[0]["job"]
    assert {r["event"] for r in records} >= {"job_started", "job_finished"}
    assert all(TOKEN not in json.dumps(r) for r in records)


async def test_readyz_and_metrics(served: Served, double: SlackDouble) -> None:
    import aiohttp

    from .conftest import settings_for

    async with aiohttp.ClientSession() as session:
        for path, status in (("/healthz", 200), ("/readyz", 200), ("/metrics", 200)):
            async with session.get(str(served.server.make_url(path))) as resp:
                assert resp.status == status
    down = await serve(double, settings=settings_for(double, "redis://127.0.0.1:1/0"))
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(str(down.server.make_url("/readyz"))) as resp,
        ):
            assert resp.status == 503
            assert (await resp.json())["ready"] is False
    finally:
        await down.close()


async def test_rerun_double_click_joined_but_never_joins_a_fresh_check(double: SlackDouble) -> None:
    diagnosis = FakeDiagnosis(delay=0.3)
    config = FileConfig(slack=SlackFileConfig(rate_limit_per_minute=0))
    app = await serve(double, diagnosis=diagnosis, config=config)
    try:
        await app.sender.command(FUNCTION)
        await app.drain()
        parent = as_event_message(parent_of(double))
        await app.sender.command(FUNCTION, channel="C0ELSEWHERE")  # a fresh check is running
        await app.sender.click(parent, ActionId.RERUN)
        await app.sender.click(parent, ActionId.RERUN)  # double click: joined
        notes = await double.wait_for(lambda: double.calls_to("chat.postEphemeral"), what="note")
        assert "already running" in notes[0].params["text"]
        await app.drain()
        assert len(diagnosis.calls) == 3
        assert sum(1 for c in diagnosis.calls if c.rerun_of is not None) == 1
    finally:
        await app.close()


async def test_unused_event_types_are_acknowledged(served: Served) -> None:
    reply = await served.sender.event(
        {"type": "member_joined_channel", "user": "U0NEW", "channel": CHANNEL}
    )
    assert reply.status == 200
    challenge = await served.sender.post(
        json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}),
        "application/json",
    )
    assert challenge.json() == {"challenge": "abc123"}
