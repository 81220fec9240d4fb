"""Block Kit builders: Slack's limits are respected and no content is lost."""

from __future__ import annotations

import json

from bot.report import Evidence, Status
from bot.slack import messages as m
from bot.slack.i18n import Translator
from bot.slack.refs import ButtonValue, ThreadRef

from .conftest import FUNCTION, finding, make_report

EN = Translator("en")
JA = Translator("ja")


def texts(message: m.SlackMessage) -> str:
    return json.dumps(message.block_dicts(), ensure_ascii=False)


def section_texts(message: m.SlackMessage) -> list[str]:
    return [b["text"]["text"] for b in message.block_dicts() if b["type"] == "section"]


def check_limits(message: m.SlackMessage) -> None:
    blocks = message.block_dicts()  # to_dict() validates every block
    assert len(blocks) <= m.MAX_BLOCKS
    # Slack's cumulative limit (msg_blocks_too_long at about 12 000 characters of text)
    assert sum(len(t) for t in m.block_texts(blocks)) <= 12000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= m.MAX_SECTION_TEXT
        if block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= m.MAX_BUTTON_TEXT
                assert len(element["value"]) <= 2000


def test_long_detail_split_without_loss() -> None:
    item = finding("vpc-eni", actions=["ec2:CreateNetworkInterface"])
    item.detail = "\n".join(f"line {i} " + "x" * 90 for i in range(120))  # ~12 000 chars
    messages = m.finding_messages(EN, item)
    # too much text for one message: continued in a second one, not cut
    assert len(messages) == 2
    for message in messages:
        check_limits(message)
    assert "(continued 1/2)" in texts(messages[0])
    joined = "\n".join(text for message in messages for text in section_texts(message))
    for i in range(120):
        assert f"line {i} " in joined


def test_many_evidence_entries_paginate() -> None:
    item = finding("kms", actions=["kms:Decrypt"])
    item.evidence = [
        Evidence(policy=f"policy-{i}", sid=f"S{i}", text='{"Effect":"Deny"}') for i in range(130)
    ]
    messages = m.finding_messages(EN, item)
    assert len(messages) >= 3
    for message in messages:
        check_limits(message)
    everything = "".join(texts(msg) for msg in messages)
    for i in range(130):
        assert f"policy-{i} / S{i}" in everything
    assert "(continued 1/" in texts(messages[0])


def test_long_policy_uploaded_as_file() -> None:
    statements = [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::bucket-{i}/*",
        }
        for i in range(60)
    ]
    item = finding(
        "s3", actions=["s3:GetObject"], policy={"Version": "2012-10-17", "Statement": statements}
    )
    [message] = m.finding_messages(EN, item)
    check_limits(message)
    assert [f.filename for f in message.files] == ["fix-s3.json"]
    assert json.loads(message.files[0].content)["Statement"] == statements
    assert "fix-s3.json" in texts(message)


def test_short_policy_inline_code_block() -> None:
    [message] = m.finding_messages(EN, finding("vpc-eni", actions=["ec2:CreateNetworkInterface"]))
    assert not message.files
    assert "```" in texts(message)
    assert "Policy to add" in texts(message)


def test_parent_buttons_and_limits_in_both_locales() -> None:
    report = make_report(
        [finding("vpc-eni", actions=["ec2:CreateNetworkInterface"]), finding("x", Status.PASS)]
    )
    value = ButtonValue(
        thread=ThreadRef(channel="C1", thread_ts="1.2", parent_ts="1.2"),
        function_ref=FUNCTION,
        account="111111111111",
    )
    for tr in (EN, JA):
        message = m.parent_done(tr, report, "U1", value)
        check_limits(message)
        actions = next(b for b in message.block_dicts() if b["type"] == "actions")
        assert [e["action_id"] for e in actions["elements"]] == [
            "lambda_why_rerun",
            "lambda_why_escalate",
            "lambda_why_export",
        ]
        assert ButtonValue.model_validate_json(actions["elements"][0]["value"]) == value


def test_report_messages_order_and_passes_folded() -> None:
    report = make_report(
        [
            finding("warned", Status.WARN),
            finding("passed-a", Status.PASS),
            finding("failed", actions=["sqs:ReceiveMessage"]),
            finding("undecided", Status.UNKNOWN),
            finding("passed-b", Status.PASS),
        ]
    )
    messages = m.report_messages(EN, report)
    order = [msg.text for msg in messages]
    assert order[0].endswith("failed is fail")
    assert order[1].endswith("undecided is unknown")
    assert order[2].endswith("warned is warn")
    assert "2 checks passed" in order[3]
    assert len(messages) == 4


def test_diff_by_check_principal_actions_source() -> None:
    before = make_report(
        [
            finding(
                "s3-invoke",
                actions=["lambda:InvokeFunction"],
                principal="s3.amazonaws.com",
                source="arn:aws:s3:::a",
            ),
            finding("kms", actions=["kms:Decrypt"]),
        ]
    )
    after = make_report(
        [
            finding(
                "s3-invoke",
                actions=["lambda:InvokeFunction"],
                principal="s3.amazonaws.com",
                source="arn:aws:s3:::b",
            ),
            finding("kms", actions=["kms:Decrypt"], title="a reworded title"),
            finding("gone", Status.PASS),
        ]
    )
    diff = m.diff_findings(before, after)
    assert [f.source for f in diff.fixed] == ["arn:aws:s3:::a"]
    assert [f.source for f in diff.new] == ["arn:aws:s3:::b"]
    assert [f.check for f in diff.still] == ["kms"]
    [message] = m.diff_message(EN, diff, "U1")
    assert "Fixed since the previous run" in texts(message)
    [same] = m.diff_message(EN, m.diff_findings(before, before), "U1")
    assert "No change since the previous run" in texts(same)


def test_escalation_modal_and_post_validate() -> None:
    for tr in (EN, JA):
        view = m.escalation_modal(tr, FUNCTION, '{"x": 1}').to_dict()
        assert view["callback_id"] == "lambda_why_escalate_modal"
        assert len(view["title"]["text"]) <= 24
    post = m.escalation_post(
        EN,
        report=make_report([finding("kms", actions=["kms:Decrypt"])]),
        function=FUNCTION,
        user="U1",
        answers={"pattern": "intermittent"},
        permalink="https://x.slack.com/archives/C1/p1",
        mention="S0ONCALL",
    )
    check_limits(post)
    assert "<!subteam^S0ONCALL>" in post.text
    assert "https://x.slack.com/archives/C1/p1" in post.text
    assert "intermittent" in texts(post)


def test_user_text_is_escaped() -> None:
    item = finding("x", title="<!channel> & <@U1>")
    [message] = m.finding_messages(EN, item)
    assert "<!channel>" not in texts(message)
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in texts(message)


def test_explain_messages() -> None:
    parsed = {
        "principal": "arn:aws:sts::1:assumed-role/r/s",
        "action": "s3:GetObject",
        "resource": None,
        "decision": "implicit_deny",
        "policy_type": "identity",
    }
    messages = m.explain_messages(EN, parsed, [finding("s3", actions=["s3:GetObject"])], None)
    assert "s3:GetObject" in texts(messages[0])
    assert "not stated" in texts(messages[0])
    assert len(messages) == 2


def test_escalation_post_stays_one_message_with_many_findings() -> None:
    findings = [
        finding(f"check-{i}", actions=["s3:GetObject"], title=f"finding {i} " + "t" * 120)
        for i in range(200)
    ]
    long_answer = "x" * 5000
    post = m.escalation_post(
        EN,
        report=make_report(findings),
        function=FUNCTION,
        user="U1",
        answers={"pattern": "continuous", "impact": long_answer, "notes": long_answer},
        permalink="https://x.slack.com/archives/C1/p1",
        mention=None,
    )
    check_limits(post)
    body = texts(post)
    assert "finding 0 " in body
    assert "more in the thread" in body
    assert "https://x.slack.com/archives/C1/p1" in body


def test_plain_text_fallback_keeps_every_line() -> None:
    item = finding("vpc-eni", actions=["ec2:CreateNetworkInterface"])
    item.detail = "\n".join(f"line {i} " + "y" * 90 for i in range(80))
    [message] = m.finding_messages(EN, item)[:1]
    pieces = m.plain_messages(message, "NOTE")
    assert pieces[0].startswith("NOTE")
    assert all(0 < len(p) <= m.MAX_SECTION_TEXT for p in pieces)
    joined = "\n".join(pieces)
    for i in range(40):  # the first message of the finding holds the first lines
        assert f"line {i} " in joined
    assert "ec2:CreateNetworkInterface" in joined


def test_with_note_adds_a_block_or_a_message() -> None:
    small = m.note_message("hello")
    [same] = m.with_note(small, "moved")
    assert texts(same).index("moved") < texts(same).index("hello")
    full = m.SlackMessage(text="full", blocks=[m.context(f"c{i}") for i in range(m.MAX_BLOCKS)])
    note, original = m.with_note(full, "moved")
    assert "moved" in texts(note)
    assert original is full


def test_long_lines_split_between_values() -> None:
    values = ",".join(f'"xx-approved-{n:03d}"' for n in range(600))
    pieces = m.split_text(values)
    assert all(len(p) <= m.MAX_SECTION_TEXT for p in pieces)
    assert "".join(pieces) == values
    for n in range(600):
        assert any(f"xx-approved-{n:03d}" in p for p in pieces)
    escaped = "&lt;" * 2000
    pieces = m.split_text(escaped)
    assert "".join(pieces) == escaped
    assert all(p.startswith("&lt;") and p.endswith("&lt;") for p in pieces)
