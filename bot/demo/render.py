"""Terminal output of `lambda-why demo`: plain text, ANSI colour only on a terminal."""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from bot.report import Finding, Status

if TYPE_CHECKING:
    from bot.demo.run import DemoResult, ScenarioResult
    from bot.demo.scenarios import Scenario

WIDTH = 100

_COLOURS = {
    Status.FAIL: "31",  # red
    Status.WARN: "33",  # yellow
    Status.PASS: "32",  # green
    Status.UNKNOWN: "35",  # magenta
    "dim": "2",
    "bold": "1",
    "cyan": "36",
}


def _colour(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def paint(out: TextIO, text: str, style: str | Status) -> str:
    if not _colour(out):
        return text
    return f"\033[{_COLOURS[style]}m{text}\033[0m"


def rule(out: TextIO, title: str) -> None:
    line = f"━━ {title} " + "━" * max(3, WIDTH - len(title) - 4)
    out.write(paint(out, line, "bold") + "\n")


def banner(out: TextIO, endpoint_url: str) -> None:
    out.write(
        paint(out, "lambda-why demo", "bold")
        + " — local moto AWS at "
        + endpoint_url
        + "; nothing leaves this machine.\n"
    )


def seeded(out: TextIO, scenarios: Sequence[Scenario], seconds: float) -> None:
    accounts = sorted({s.account for s in scenarios})
    out.write(
        f"Seeded {len(scenarios)} functions in {len(accounts)} account(s) "
        f"({', '.join(accounts)}) in {seconds:.1f}s:\n"
    )
    for s in scenarios:
        tag = (
            paint(out, "healthy", Status.PASS) if s.healthy else paint(out, "broken ", Status.FAIL)
        )
        out.write(f"  {tag}  {s.function_name:<24} {s.title}\n")
    out.write("\n")


def finding_lines(finding: Finding) -> list[str]:
    """A failing or warning finding as indented text."""
    status = finding.status.value.upper()
    lines = [f"{status:<7} {finding.check}: {finding.title}"]
    facts = []
    if finding.principal:
        facts.append(f"principal {finding.principal}")
    if finding.actions:
        facts.append(f"actions {', '.join(finding.actions)}")
    if finding.source:
        facts.append(f"source {finding.source}")
    if finding.denied_by:
        facts.append(f"denied by {', '.join(finding.denied_by)}")
    lines += [f"        {fact}" for fact in facts]
    if finding.fix:
        lines.append(f"        fix: {finding.fix.summary}")
        lines += [f"          $ {command}" for command in finding.fix.commands[:2]]
    return lines


def diagnosis(out: TextIO, result: ScenarioResult) -> None:
    """One scenario's direct diagnosis (the demo without the Slack app)."""
    scenario = result.scenario
    rule(out, f"{scenario.function_name} ({scenario.key})")
    out.write(f"  {scenario.function_arn}\n")
    if result.error:
        out.write(paint(out, f"  error: {result.error}", Status.FAIL) + "\n\n")
        return
    report = result.report
    assert report is not None
    for finding in report.findings:
        if finding.status in (Status.FAIL, Status.WARN, Status.UNKNOWN):
            for index, line in enumerate(finding_lines(finding)):
                out.write("  " + (paint(out, line, finding.status) if index == 0 else line) + "\n")
    s = report.summary
    out.write(
        "  "
        + paint(out, f"{s.fail} fail · {s.warn} warn · {s.pass_} pass · {s.unknown} unknown", "dim")
        + "\n"
    )
    expectation(out, result)
    if result.bundle:
        out.write(f"  support bundle: {result.bundle}\n")
    out.write("\n")


def expectation(out: TextIO, result: ScenarioResult) -> None:
    scenario = result.scenario
    report = result.report
    if report is None:
        return
    if result.note:
        out.write("  " + paint(out, f"expected: not compared — {result.note}", "dim") + "\n")
        return
    ok = result.as_expected
    if scenario.healthy:
        text = "expected: no failure — " + ("as expected" if ok else "UNEXPECTED FAILURE")
    else:
        wanted = "; ".join(f"{e.check} {', '.join(e.actions)}" for e in scenario.expected)
        text = f"expected: {wanted} — " + ("found" if ok else "NOT FOUND")
    out.write("  " + paint(out, text, Status.PASS if ok else Status.FAIL) + "\n")


def wrap(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(
            paragraph,
            WIDTH - len(indent),
            initial_indent=indent,
            subsequent_indent=indent,
            replace_whitespace=False,
            drop_whitespace=False,
        ) or [indent]
    return lines


def footer(out: TextIO, result: DemoResult) -> None:
    found = sum(1 for r in result.results if r.as_expected)
    compared = [r for r in result.results if r.note is None]
    skipped = len(result.results) - len(compared)
    extra = f" ({skipped} not compared, see above)" if skipped else ""
    out.write(
        paint(out, "Done", "bold") + f" in {result.seconds:.1f}s ({result.mode} mode): "
        f"{found}/{len(compared)} diagnoses as expected{extra}; "
        f"{len(result.bundles)} support bundle(s) in {result.out_dir}/\n"
    )


# --------------------------------------------------------------------------- Slack threads

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>|<([^<>]+)>")


def mrkdwn(text: str) -> str:
    """Slack mrkdwn as terminal text: links and mentions spelled out, entities unescaped."""

    def link(match: re.Match[str]) -> str:
        target, label, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            if bare.startswith("!subteam^"):
                return "@" + bare.removeprefix("!subteam^")
            return bare.removeprefix("!")
        if target.startswith(("@", "#", "!subteam^")):
            return f"@{label}" if not label.startswith(("@", "#")) else label
        return f"{label} ({target})"

    text = _LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: object) -> str:
    if isinstance(obj, dict):
        value = obj.get("text")
        if isinstance(value, str):
            return mrkdwn(value)
        if isinstance(value, dict):
            return _text_of(value)
    return ""


def _rich_text(elements: list[Any]) -> list[str]:
    lines: list[str] = []
    for element in elements:
        kind = element.get("type")
        inner = "".join(
            (e.get("text") or e.get("url") or e.get("name") or "")
            for e in element.get("elements", [])
            if isinstance(e, dict) and e.get("type") not in ("rich_text_section", "rich_text_list")
        )
        if kind == "rich_text_preformatted":
            lines += ["```", *inner.splitlines(), "```"]
        elif kind == "rich_text_list":
            for item in element.get("elements", []):
                lines += ["• " + line for line in _rich_text([item])]
        elif kind == "rich_text_quote":
            lines += ["> " + line for line in inner.splitlines()]
        else:
            lines += inner.splitlines() or [""]
    return lines


def block_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """Block Kit blocks as plain text lines (buttons as `[ Label ]`)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"▌{_text_of(block)}")
        elif kind == "section":
            if block.get("text"):
                lines += _text_of(block).splitlines()
            for field_ in block.get("fields", []):
                lines += _text_of({"text": field_}).splitlines()
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                lines.append(f"[ {_text_of(accessory)} ]")
        elif kind == "context":
            parts = [
                _text_of({"text": e}) if e.get("type") != "image" else str(e.get("alt_text", ""))
                for e in block.get("elements", [])
            ]
            lines.append(" · ".join(p for p in parts if p))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "actions":
            buttons = [
                f"[ {_text_of(e)} ]" for e in block.get("elements", []) if e.get("type") == "button"
            ]
            lines.append(" ".join(buttons))
        elif kind == "rich_text":
            lines += _rich_text(block.get("elements", []))
        elif kind == "image":
            lines.append(f"(image: {block.get('alt_text', '')})")
        elif kind == "input":
            lines.append(f"{_text_of(block.get('label', {}))}: ____")
        elif kind == "file":
            lines.append(f"(file {block.get('external_id', '')})")
    return lines


def message_lines(message: dict[str, Any]) -> list[str]:
    """A posted message: its blocks (or its text), attachments and files."""
    lines: list[str] = []
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if blocks:
        lines += block_lines(blocks)
    elif message.get("text"):
        lines += mrkdwn(str(message["text"])).splitlines()
    attachments = message.get("attachments")
    if isinstance(attachments, str):
        attachments = json.loads(attachments)
    for attachment in attachments or []:
        if attachment.get("blocks"):
            lines += ["│ " + line for line in block_lines(attachment["blocks"])]
        elif attachment.get("text"):
            lines += ["│ " + line for line in mrkdwn(attachment["text"]).splitlines()]
    for file in message.get("files", []) or []:
        size = file.get("size")
        extra = f", {size} bytes" if size else ""
        lines.append(f"📎 {file.get('title') or file.get('name')} ({file.get('name')}{extra})")
    return lines


def thread(
    out: TextIO,
    title: str,
    parent: dict[str, Any],
    replies: Sequence[dict[str, Any]],
    *,
    ephemeral: Sequence[dict[str, Any]] = (),
) -> None:
    """A Slack thread: the parent message, then each reply indented under it."""
    rule(out, title)
    for note in ephemeral:
        for line in message_lines(note):
            out.write(paint(out, f"  (only visible to you) {line}", "dim") + "\n")
    for line in message_lines(parent):
        out.write(f"  {line}\n")
    for reply in replies:
        out.write("  " + paint(out, "└─ reply", "cyan") + "\n")
        for line in message_lines(reply):
            out.write(f"     │ {line}\n")
    out.write("\n")


def ephemeral_reply(out: TextIO, command: str, reply: dict[str, Any]) -> None:
    """A slash command answered only to the user who sent it (bad input)."""
    rule(out, f"#ops · {command}")
    for line in message_lines(reply):
        out.write(paint(out, f"  (only visible to you) {line}", "dim") + "\n")
    out.write("\n")
