"""Block Kit builders: Report -> Slack messages, built with `slack_sdk.models`.

Builders are pure: they take data and a translator and return `SlackMessage` values. They
respect Slack's limits without dropping content: section text is split at 3000 characters,
messages at 50 blocks or at `MAX_MESSAGE_CHARS` characters of block text (Slack refuses a
message whose blocks carry about 12,000 characters in all with `msg_blocks_too_long`,
although no single block is too long: slackapi/bolt-js#2509, #2867), and a policy too long
to read inline is attached as a file.
https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.report import Finding, Report, Status, utc_iso
from bot.slack.actions import ActionId, CallbackId, EscalationField
from bot.slack.i18n import Translator
from bot.slack.refs import ButtonValue

#: Slack limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
#: a fallback `text` longer than this is truncated by Slack; we keep it short
MAX_FALLBACK_TEXT = 3000
#: an inline fix policy longer than this is attached as a file instead
INLINE_POLICY_CHARS = 2500
#: characters of text in one message's blocks; Slack's undocumented cumulative limit is
#: about 12,000 (`msg_blocks_too_long`), so messages are cut well below it
MAX_MESSAGE_CHARS = 9000
#: characters of finding lines in an escalation post (the thread it links holds them all);
#: with the modal's answers (each at most `MAX_ANSWER_CHARS`) the post stays one message
ESCALATION_FINDINGS_CHARS = 2500
MAX_ANSWER_CHARS = 3000

_FENCE = "```"


@dataclass
class SlackFile:
    """A file to upload into the thread next to a message."""

    filename: str
    content: bytes
    title: str


@dataclass
class SlackMessage:
    """One `chat.postMessage` / `chat.update`: fallback text, blocks, and files to upload."""

    text: str
    blocks: list[Block]
    files: list[SlackFile] = field(default_factory=list)

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


# ---------------------------------------------------------------------------- text helpers


def _cut(line: str, limit: int) -> int:
    """Where to cut a line longer than `limit`: after the last space, comma or semicolon in
    the second half of the window (a policy's JSON, a list of ARNs), else at `limit`."""
    cut = max(line.rfind(sep, 0, limit) for sep in (" ", ",", ";"))
    if cut >= limit // 2:
        return cut + 1
    # a hard cut must not split an escape (`&amp;`, `&lt;`, `&gt;`)
    amp = line.rfind("&", max(0, limit - 4), limit)
    if amp > 0 and ";" not in line[amp:limit]:
        return amp
    return limit


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line breaks when possible,
    else between words or list items, so no ARN or value is cut in two."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for raw_line in text.splitlines(keepends=True):
        line = raw_line
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            cut = _cut(line, limit)
            pieces.append(line[:cut])
            line = line[cut:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") or p for p in pieces]


def escape(text: str) -> str:
    """Escape Slack's control characters in text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_sections(code: str, heading: str | None = None) -> list[SectionBlock]:
    """`code` as code blocks, as many sections as needed (each ≤ 3000 characters)."""
    head = f"*{heading}*\n" if heading else ""
    room = MAX_SECTION_TEXT - len(head) - 2 * len(_FENCE) - 2
    pieces = split_text(escape(code), room)
    blocks = []
    for index, piece in enumerate(pieces):
        prefix = head if index == 0 else ""
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"{prefix}{_FENCE}{piece}{_FENCE}"))
        )
    return blocks


def text_sections(text: str) -> list[SectionBlock]:
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_text(text)]


def context(*texts: str) -> ContextBlock:
    return ContextBlock(
        elements=[
            MarkdownTextObject(text=t[:MAX_SECTION_TEXT]) for t in texts[:MAX_CONTEXT_ELEMENTS]
        ]
    )


def header(text: str) -> HeaderBlock:
    if len(text) > MAX_HEADER_TEXT:
        text = text[: MAX_HEADER_TEXT - 1] + "…"
    return HeaderBlock(text=PlainTextObject(text=text))


def button_text(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_TEXT else text[: MAX_BUTTON_TEXT - 1] + "…"


def fallback(text: str) -> str:
    return text if len(text) <= MAX_FALLBACK_TEXT else text[: MAX_FALLBACK_TEXT - 1] + "…"


def block_texts(node: Any) -> list[str]:
    """Every text string of a block (dict) tree, in reading order."""
    found: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(block_texts(value))
    elif isinstance(node, list | tuple):
        for item in node:
            found.extend(block_texts(item))
    return found


def block_chars(block: Block) -> int:
    """The characters of text a block carries (what Slack's cumulative limit counts)."""
    return sum(len(t) for t in block_texts(block.to_dict()))


def plain_text(message: SlackMessage) -> str:
    """A message's content as plain mrkdwn text (a fallback when Slack refuses its blocks).

    Buttons are left out: their labels are not content."""
    lines: list[str] = []
    for block in message.block_dicts():
        if block.get("type") == "actions":
            continue
        lines.extend(block_texts(block))
    return "\n".join(lines) or message.text


def _chunks(blocks: Sequence[Block], room: int) -> list[list[Block]]:
    """Blocks in runs of at most `room` blocks and `MAX_MESSAGE_CHARS` characters."""
    chunks: list[list[Block]] = [[]]
    chars = 0
    for block in blocks:
        size = block_chars(block)
        current = chunks[-1]
        if current and (len(current) >= room or chars + size > MAX_MESSAGE_CHARS):
            chunks.append([])
            chars = 0
        chunks[-1].append(block)
        chars += size
    return chunks


def paginate(
    tr: Translator, text: str, blocks: Sequence[Block], files: Sequence[SlackFile] = ()
) -> list[SlackMessage]:
    """Blocks as one message, or several (≤ 50 blocks and `MAX_MESSAGE_CHARS` characters
    each) marked "(continued n/m)"."""
    if len(blocks) <= MAX_BLOCKS and sum(block_chars(b) for b in blocks) <= MAX_MESSAGE_CHARS:
        return [SlackMessage(text=fallback(text), blocks=list(blocks), files=list(files))]
    chunks = _chunks(blocks, MAX_BLOCKS - 1)
    messages = []
    for index, chunk in enumerate(chunks):
        note = tr("label.continued", part=index + 1, parts=len(chunks))
        part_files = list(files) if index == 0 else []
        messages.append(
            SlackMessage(
                text=fallback(f"{text} {note}"),
                blocks=[*chunk, context(note)],
                files=part_files,
            )
        )
    return messages


# ---------------------------------------------------------------------------- help


def help_message(tr: Translator) -> SlackMessage:
    blocks: list[Block] = [header(tr("help.title")), *text_sections(tr("help.body"))]
    blocks.append(context(tr("usage")))
    return SlackMessage(text=tr("help.title"), blocks=blocks)


def error_message(tr: Translator, text: str, *, usage: bool = True) -> SlackMessage:
    """An ephemeral refusal: what was wrong and how to call the bot."""
    full = f"{text}\n{tr('usage')}" if usage else text
    blocks: list[Block] = [*text_sections(text)]
    if usage:
        blocks.append(context(tr("usage")))
    return SlackMessage(text=fallback(full), blocks=blocks)


# ---------------------------------------------------------------------------- parent


def _requested(tr: Translator, user: str, when: datetime) -> str:
    return tr("parent.requested", user=user, time=utc_iso(when))


def parent_checking(
    tr: Translator, function: str, user: str, when: datetime | None = None
) -> SlackMessage:
    """The parent message while the check runs: function, who asked, "checking…"."""
    when = when or datetime.now(UTC)
    title = tr("parent.title", function=function)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{escape(title)}*")),
        context(_requested(tr, user, when)),
        SectionBlock(text=MarkdownTextObject(text=tr("parent.checking"))),
    ]
    return SlackMessage(text=fallback(f"{title}: {tr('parent.checking')}"), blocks=blocks)


def rerun_checking(tr: Translator, user: str) -> SlackMessage:
    text = tr("parent.rerun_checking", user=user)
    return SlackMessage(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def buttons(tr: Translator, value: ButtonValue) -> ActionsBlock:
    """Rerun / Escalate / Export, all carrying where the results are."""
    raw = value.model_dump_json()
    return ActionsBlock(
        block_id="lambda_why_actions",
        elements=[
            ButtonElement(
                text=button_text(tr("button.rerun")), action_id=ActionId.RERUN.value, value=raw
            ),
            ButtonElement(
                text=button_text(tr("button.escalate")),
                action_id=ActionId.ESCALATE.value,
                value=raw,
                style="danger",
            ),
            ButtonElement(
                text=button_text(tr("button.export")), action_id=ActionId.EXPORT.value, value=raw
            ),
        ],
    )


def counts_text(tr: Translator, report: Report) -> str:
    s = report.summary
    return tr("parent.counts", fail=s.fail, warn=s.warn, unknown=s.unknown, **{"pass": s.pass_})


def parent_done(
    tr: Translator, report: Report, user: str, value: ButtonValue, when: datetime | None = None
) -> SlackMessage:
    """The parent after the check: the summary and the buttons."""
    title = tr("parent.title", function=report.function)
    if report.summary.fail:
        word = tr("word.check") if report.summary.fail == 1 else tr("word.checks")
        verdict = tr("parent.failing", fail=report.summary.fail, fail_word=word)
    else:
        verdict = tr("parent.ok")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{escape(title)}*")),
        context(_requested(tr, user, when or report.checked_at)),
        SectionBlock(text=MarkdownTextObject(text=f"{verdict}\n{counts_text(tr, report)}")),
    ]
    top = _top_finding(report)
    if top is not None:
        blocks.extend(text_sections(tr("parent.top", title=escape(top.title))))
    blocks.append(context(tr("parent.thread_hint")))
    blocks.append(buttons(tr, value))
    summary = f"{title}: {verdict} {_plain_counts(report)}"
    return SlackMessage(text=fallback(summary), blocks=blocks)


def parent_failed(
    tr: Translator, function: str, user: str, error: str, value: ButtonValue | None
) -> SlackMessage:
    """The parent when the check could not run (bad ARN, unknown function, AWS down)."""
    title = tr("parent.title", function=function)
    failed = tr("parent.failed", error=escape(error))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{escape(title)}*")),
        context(_requested(tr, user, datetime.now(UTC))),
        *text_sections(failed),
    ]
    if value is not None:
        blocks.append(buttons(tr, value))
    return SlackMessage(text=fallback(f"{title}: {failed}"), blocks=blocks)


def _plain_counts(report: Report) -> str:
    s = report.summary
    return f"(fail {s.fail}, warn {s.warn}, pass {s.pass_}, unknown {s.unknown})"


_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.PASS: 3}
_SEVERITY = {"high": 0, "medium": 1, "low": 2, "info": 3}


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Failing first, then undecided, then warnings; by severity within each."""
    return sorted(findings, key=lambda f: (_ORDER[f.status], _SEVERITY[f.severity.value]))


def _top_finding(report: Report) -> Finding | None:
    shown = [f for f in report.findings if f.status is not Status.PASS]
    return ordered(shown)[0] if shown else None


# ---------------------------------------------------------------------------- findings


def _lines(label: str, values: Sequence[str]) -> str:
    if not values:
        return ""
    if len(values) == 1:
        return f"*{label}:* `{escape(values[0])}`"
    return f"*{label}:*\n" + "\n".join(f"• `{escape(v)}`" for v in values)


def finding_messages(tr: Translator, finding: Finding) -> list[SlackMessage]:
    """One finding as one thread reply (or several, when it is too long for one)."""
    status = tr(f"status.{finding.status.value}")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{status}: *{escape(finding.title)}*")),
        context(
            tr("label.check", check=finding.check),
            tr("severity", severity=finding.severity.value),
        ),
    ]
    if finding.detail:
        blocks.extend(text_sections(escape(finding.detail)))
    facts = [
        _lines(tr("label.principal"), [finding.principal] if finding.principal else []),
        _lines(tr("label.actions"), finding.actions),
        _lines(tr("label.resources"), finding.resources),
        _lines(tr("label.source"), [finding.source] if finding.source else []),
        _lines(tr("label.denied_by"), finding.denied_by),
    ]
    facts_text = "\n".join(f for f in facts if f)
    if facts_text:
        blocks.extend(text_sections(facts_text))
    for evidence in finding.evidence:
        where = " / ".join(p for p in (evidence.policy, evidence.sid) if p)
        heading = f"{tr('label.evidence')}: {escape(where)}" if where else tr("label.evidence")
        if evidence.text:
            blocks.extend(code_sections(evidence.text, heading))
        else:
            blocks.extend(text_sections(f"*{heading}*"))
    files: list[SlackFile] = []
    if finding.fix is not None:
        blocks.append(DividerBlock())
        blocks.extend(text_sections(f"*{tr('label.fix')}:* {escape(finding.fix.summary)}"))
        if finding.fix.commands:
            blocks.extend(code_sections("\n".join(finding.fix.commands), tr("label.commands")))
        if finding.fix.policy is not None:
            policy = json.dumps(finding.fix.policy, indent=2)
            if len(policy) > INLINE_POLICY_CHARS:
                filename = f"fix-{finding.check}.json"
                files.append(
                    SlackFile(filename=filename, content=policy.encode(), title=finding.title)
                )
                blocks.append(context(tr("label.policy_file", filename=filename)))
            else:
                blocks.extend(code_sections(policy, tr("label.policy")))
    if finding.related_events:
        lines = [
            _event_line(e.time, e.event, e.actor, e.error, e.summary)
            for e in finding.related_events
        ]
        blocks.extend(text_sections(f"*{tr('label.events')}:*\n" + "\n".join(lines)))
    return paginate(tr, f"{status}: {finding.title}", blocks, files)


def _event_line(
    when: datetime, name: str, actor: str | None, error: str | None, summary: str
) -> str:
    parts = [f"`{utc_iso(when)}` *{escape(name)}*"]
    if actor:
        parts.append(escape(actor))
    if error:
        parts.append(f"({escape(error)})")
    if summary:
        parts.append(f"— {escape(summary)}")
    return " ".join(parts)


def passes_message(tr: Translator, findings: Sequence[Finding]) -> list[SlackMessage]:
    """All passing checks folded into one reply."""
    passed = [f for f in findings if f.status is Status.PASS]
    if not passed:
        return []
    word = tr("word.check") if len(passed) == 1 else tr("word.checks")
    head = tr("passes.header", count=len(passed), checks_word=word)
    lines = "\n".join(f"• `{f.check}` {escape(f.title)}" for f in passed)
    return paginate(tr, head, [*text_sections(f"{head}\n{lines}")])


def scope_messages(tr: Translator, report: Report) -> list[SlackMessage]:
    """Failed reads (gaps), scope notes and recent CloudTrail activity, when there are any."""
    blocks: list[Block] = []
    if report.gaps:
        lines = [
            f"• `{escape(g.operation)}`"
            + (f" on `{escape(g.resource)}`" if g.resource else "")
            + f": {escape(g.error)}"
            for g in report.gaps
        ]
        blocks.extend(text_sections(f"*{tr('gaps.header')}*\n" + "\n".join(lines)))
    if report.notes:
        notes = "\n".join(f"• {escape(n)}" for n in report.notes)
        blocks.extend(text_sections(f"*{tr('notes.header')}*\n{notes}"))
    if report.events:
        lines = [_event_line(e.time, e.event, e.actor, e.error, e.summary) for e in report.events]
        head = tr("events.header", count=len(report.events))
        blocks.extend(text_sections(f"*{head}*\n" + "\n".join(lines)))
    if not blocks:
        return []
    return paginate(tr, tr("notes.header"), blocks)


def report_messages(tr: Translator, report: Report) -> list[SlackMessage]:
    """Every thread reply of a report: each non-passing finding, passes folded, scope."""
    messages: list[SlackMessage] = []
    for finding in ordered(f for f in report.findings if f.status is not Status.PASS):
        messages.extend(finding_messages(tr, finding))
    messages.extend(passes_message(tr, report.findings))
    messages.extend(scope_messages(tr, report))
    return messages


# ---------------------------------------------------------------------------- rerun diff


FindingKey = tuple[str, str | None, tuple[str, ...], str | None]


def finding_key(finding: Finding) -> FindingKey:
    """Identity of a finding across runs: check + principal + actions + source."""
    return (finding.check, finding.principal, tuple(sorted(finding.actions)), finding.source)


@dataclass
class FindingDiff:
    fixed: list[Finding]
    new: list[Finding]
    still: list[Finding]


def diff_findings(previous: Report, current: Report) -> FindingDiff:
    """What is fixed and what is new: non-passing findings compared by `finding_key`."""
    before = {finding_key(f): f for f in previous.findings if f.status is not Status.PASS}
    after = {finding_key(f): f for f in current.findings if f.status is not Status.PASS}
    return FindingDiff(
        fixed=[f for k, f in before.items() if k not in after],
        new=[f for k, f in after.items() if k not in before],
        still=[f for k, f in after.items() if k in before],
    )


def diff_message(tr: Translator, diff: FindingDiff | None, user: str) -> list[SlackMessage]:
    head = tr("rerun.header", user=user)
    if diff is None:
        return paginate(tr, head, text_sections(f"{head}\n{tr('rerun.no_previous')}"))
    parts = [head]
    if diff.fixed:
        parts.append(tr("rerun.fixed"))
        parts.extend(f"• `{f.check}` {escape(f.title)}" for f in diff.fixed)
    if diff.new:
        parts.append(tr("rerun.new"))
        parts.extend(
            f"• {tr(f'status.{f.status.value}')} `{f.check}` {escape(f.title)}" for f in diff.new
        )
    if not diff.fixed and not diff.new:
        parts.append(tr("rerun.same"))
    if diff.still:
        parts.append(tr("rerun.still", count=len(diff.still)))
    return paginate(tr, head, text_sections("\n".join(parts)))


# ---------------------------------------------------------------------------- escalation


def escalation_modal(tr: Translator, function: str, private_metadata: str) -> View:
    """The Escalate modal: intermittent or continuous, when it started, impact, notes."""
    pattern = RadioButtonsElement(
        action_id=EscalationField.PATTERN.value,
        options=[
            Option(value="intermittent", text=PlainTextObject(text=tr("modal.intermittent"))),
            Option(value="continuous", text=PlainTextObject(text=tr("modal.continuous"))),
        ],
    )
    return View(
        type="modal",
        callback_id=CallbackId.ESCALATE_MODAL.value,
        title=PlainTextObject(text=tr("modal.title")[:24]),
        submit=PlainTextObject(text=tr("modal.submit")[:24]),
        close=PlainTextObject(text=tr("modal.close")[:24]),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=tr("modal.intro", function=escape(function)))
            ),
            InputBlock(
                block_id=EscalationField.PATTERN.value, label=tr("modal.pattern"), element=pattern
            ),
            InputBlock(
                block_id=EscalationField.STARTED.value,
                label=tr("modal.started"),
                element=PlainTextInputElement(
                    action_id=EscalationField.STARTED.value,
                    placeholder=tr("modal.started_placeholder"),
                    max_length=200,
                ),
                optional=True,
            ),
            InputBlock(
                block_id=EscalationField.IMPACT.value,
                label=tr("modal.impact"),
                element=PlainTextInputElement(
                    action_id=EscalationField.IMPACT.value,
                    placeholder=tr("modal.impact_placeholder"),
                    multiline=True,
                    max_length=MAX_ANSWER_CHARS,
                ),
                optional=True,
            ),
            InputBlock(
                block_id=EscalationField.NOTES.value,
                label=tr("modal.notes"),
                element=PlainTextInputElement(
                    action_id=EscalationField.NOTES.value,
                    multiline=True,
                    max_length=MAX_ANSWER_CHARS,
                ),
                optional=True,
            ),
        ],
    )


def escalation_post(
    tr: Translator,
    *,
    report: Report | None,
    function: str,
    user: str,
    answers: Mapping[str, str | None],
    permalink: str | None,
    mention: str | None,
) -> SlackMessage:
    """The post in the escalation channel: summary, answers, thread link, on-call mention."""
    title = tr("escalation.header", function=function)
    mention_text = f" · <!subteam^{mention}>" if mention else ""
    blocks: list[Block] = [
        header(title),
        SectionBlock(
            text=MarkdownTextObject(text=tr("escalation.by", user=user, mention=mention_text))
        ),
    ]
    if report is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=counts_text(tr, report))))
        failing = [f for f in ordered(report.findings) if f.status is not Status.PASS]
        if failing:
            lines = [
                f"• {tr(f'status.{f.status.value}')} `{f.check}` {escape(f.title)}" for f in failing
            ]
            # the thread holds every finding: the post lists what fits beside the answers
            shown: list[str] = []
            for line in lines:
                if sum(len(s) + 1 for s in shown) + len(line) > ESCALATION_FINDINGS_CHARS:
                    break
                shown.append(line)
            if len(shown) < len(lines):
                shown.append(tr("escalation.more", count=len(lines) - len(shown)))
            blocks.extend(text_sections("\n".join(shown)))
    none = tr("escalation.not_given")

    def answer(key: str) -> str:
        # the modal caps each answer; a longer one (kept whole for Export) is clipped here
        value = answers.get(key) or none
        if len(value) > MAX_ANSWER_CHARS:
            value = value[: MAX_ANSWER_CHARS - 1] + "…"
        return escape(value)

    blocks.extend(
        text_sections(
            tr(
                "escalation.fields",
                pattern=answer("pattern"),
                started=answer("started"),
                impact=answer("impact"),
                notes=answer("notes"),
            )
        )
    )
    if permalink:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=tr("escalation.thread", permalink=permalink)))
        )
    text = f"{title}{mention_text}"
    if permalink:
        text += f" {permalink}"
    return SlackMessage(text=fallback(text), blocks=blocks)


def note_message(text: str) -> SlackMessage:
    return SlackMessage(text=fallback(text), blocks=[*text_sections(text)])


def with_note(message: SlackMessage, note: str) -> list[SlackMessage]:
    """`message` with a note in front: in the same message when it fits, else before it."""
    block = context(note)
    blocks = [block, *message.blocks]
    fits = len(blocks) <= MAX_BLOCKS and (sum(block_chars(b) for b in blocks) <= MAX_MESSAGE_CHARS)
    if fits:
        return [SlackMessage(text=message.text, blocks=blocks, files=message.files)]
    return [note_message(note), message]


def plain_messages(message: SlackMessage, note: str) -> list[str]:
    """`message` as plain text pieces of at most 3000 characters, the first one led by
    `note` (for a reply whose blocks Slack refused)."""
    return split_text(f"{note}\n{plain_text(message)}", MAX_SECTION_TEXT)


# ---------------------------------------------------------------------------- explain


def explain_messages(
    tr: Translator, parsed: dict[str, Any], findings: Sequence[Finding], error: str | None
) -> list[SlackMessage]:
    """The answer to `explain`: what the message says, then what evaluation found."""
    none = tr("explain.none")

    def show(key: str) -> str:
        value = parsed.get(key)
        return f"`{escape(str(value))}`" if value else none

    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{tr('explain.title')}*")),
        *text_sections(
            tr(
                "explain.parsed",
                principal=show("principal"),
                action=show("action"),
                resource=show("resource"),
                decision=show("decision"),
                policy_type=show("policy_type"),
            )
        ),
    ]
    messages = paginate(tr, tr("explain.title"), blocks)
    if error:
        messages.append(note_message(tr("explain.failed", error=escape(error))))
    elif not findings:
        messages.append(note_message(tr("explain.no_findings")))
    for finding in ordered(findings):
        messages.extend(finding_messages(tr, finding))
    return messages
