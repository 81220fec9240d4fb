"""A report as readable terminal text, grouped by status (fail, unknown, warn, pass).

Colour only when asked for (`use_color`: stdout is a TTY and `NO_COLOR` is unset,
https://no-color.org/). Failing and undecided findings are shown in full: what is denied,
by which policy, the evidence and the fix; passing ones get one line each.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Mapping
from typing import TextIO

from bot.report import Finding, Report, Status, utc_iso

_COLORS = {
    Status.FAIL: "31",  # red
    Status.UNKNOWN: "35",  # magenta
    Status.WARN: "33",  # yellow
    Status.PASS: "32",  # green
}
_HEADINGS = {
    Status.FAIL: "FAIL",
    Status.UNKNOWN: "UNKNOWN",
    Status.WARN: "WARN",
    Status.PASS: "PASS",
}
_ORDER = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS)
WIDTH = 100


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour when `stream` is a terminal and NO_COLOR is not set (to anything)."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def bold(self, text: str) -> str:
        return self.paint(text, "1")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def _finding(f: Finding, style: _Style) -> list[str]:
    mark = style.paint(f"[{f.status.value}]", _COLORS[f.status])
    lines = [f"{mark} {style.bold(f.title)}  {style.dim(f'({f.check}, {f.severity.value})')}"]
    if f.status is Status.PASS:
        return lines
    ind = "    "
    if f.detail:
        lines.extend(_wrap(f.detail, ind))
    if f.principal:
        lines.append(f"{ind}principal: {f.principal}")
    if f.actions:
        lines.append(f"{ind}actions:   {', '.join(f.actions)}")
    if f.resources:
        lines.append(f"{ind}resources: {', '.join(f.resources)}")
    if f.source:
        lines.append(f"{ind}source:    {f.source}")
    if f.denied_by:
        lines.append(f"{ind}denied by: {', '.join(f.denied_by)}")
    if f.evidence:
        lines.append(f"{ind}evidence:")
        for ev in f.evidence:
            where = ev.policy or "-"
            if ev.sid:
                where += f" (Sid {ev.sid})"
            lines.append(f"{ind}  - {where}")
            lines.extend(_wrap(ev.text, ind + "    "))
    for event in f.related_events:
        lines.append(f"{ind}event: {utc_iso(event.time)} {event.event} by {event.actor or '?'}")
        if event.summary:
            lines.extend(_wrap(event.summary, ind + "  "))
    if f.fix is not None:
        lines.append(f"{ind}{style.bold('fix')}: {f.fix.summary}")
        if f.fix.policy is not None:
            lines.append(f"{ind}  policy:")
            for line in json.dumps(f.fix.policy, indent=2).splitlines():
                lines.append(f"{ind}    {line}")
        for cmd in f.fix.commands:
            lines.append(f"{ind}  $ {cmd}")
    return lines


def render_report(report: Report, *, color: bool = False) -> str:
    """The whole report as text (ends with a newline)."""
    style = _Style(color)
    s = report.summary
    out = [
        style.bold(f"lambda-why check {report.function}"),
        f"account {report.account}  region {report.region}  checked {utc_iso(report.checked_at)}",
        "summary: "
        + ", ".join(
            style.paint(f"{n} {name}", _COLORS[st]) if n else f"{n} {name}"
            for n, name, st in (
                (s.fail, "fail", Status.FAIL),
                (s.unknown, "unknown", Status.UNKNOWN),
                (s.warn, "warn", Status.WARN),
                (s.pass_, "pass", Status.PASS),
            )
        ),
    ]
    for status in _ORDER:
        group = [f for f in report.findings if f.status is status]
        if not group:
            continue
        out.append("")
        out.append(style.paint(f"== {_HEADINGS[status]} ({len(group)}) ==", _COLORS[status]))
        for f in group:
            out.extend(_finding(f, style))
    if report.events:
        out.append("")
        out.append(style.bold(f"== EVENTS ({len(report.events)}) =="))
        for e in report.events:
            line = f"{utc_iso(e.time)}  {e.event}  {e.actor or '?'}"
            if e.source_ip:
                line += f"  from {e.source_ip}"
            if e.error:
                line += f"  [{e.error}]"
            if e.summary:
                line += f"  {e.summary}"
            out.append(line)
    if report.gaps:
        out.append("")
        out.append(style.bold(f"== NOT READ ({len(report.gaps)}) =="))
        for g in report.gaps:
            out.append(f"{g.operation}" + (f" {g.resource}" if g.resource else "") + f": {g.error}")
    if report.notes:
        out.append("")
        for note in report.notes:
            out.extend(_wrap(f"note: {note}", ""))
    return "\n".join(out) + "\n"
