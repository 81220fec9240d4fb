"""The support bundle (CONTRACTS §5): one `.zip` with what an AWS Support case asks for.

Files:

- `summary.txt` — the facts a support engineer asks first: the function ARN, the services
  in its workflow (triggers, mappings, destinations), whether the problem is intermittent
  or continuous, whether it crosses accounts, the IAM roles and permissions involved, and
  exact UTC timestamps (first/last error seen, when it was checked).
  (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-execution.html,
  https://docs.aws.amazon.com/awssupport/latest/user/case-management.html)
- `findings.json` — the `check --json` document (CONTRACTS §2).
- `logs.txt` — the function's CloudWatch log lines read for the diagnosis, UTC timestamps.
- `snapshot.json` — everything that was read.
- `escalation.json` — the escalation answers, when there are any.

Secrets never leave: environment variable values (already redacted at collection) are
redacted again, and every file is scrubbed of Slack tokens, AWS access keys, secret keys,
session tokens, private keys and passwords in URLs or `key=value` text.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from bot.report import Finding, Report, Status, utc_iso
from bot.snapshot import REDACTED, LogLine, Snapshot

#: more log lines than this are cut from the middle (oldest and newest kept)
MAX_LOG_LINES = 5000

# --------------------------------------------------------------------------- redaction


def _secret_key(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return REDACTED if mixed and any(c.isdigit() or c in "/+" for c in text) else text


_TEXT_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # PEM private keys, whole block
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    # Slack tokens: bot, user, app-level, legacy, refresh, config
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),
    # Slack incoming webhooks
    (re.compile(r"https://hooks\.slack\.com/[A-Za-z0-9/_-]+"), REDACTED),
    # AWS access key ids (long-term AKIA, temporary ASIA, and the other unique-id prefixes)
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), REDACTED),
    # AWS secret access keys: 40 characters of base64, mixed case (not hex digests)
    (
        re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
        _secret_key,
    ),
    # GitHub tokens
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), REDACTED),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # passwords in URLs: scheme://user:password@host
    (
        re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)(?P<secret>[^@\s/]+)(?=@)"),
        lambda m: m.group("head") + REDACTED,
    ),
    # Authorization headers
    (
        re.compile(
            r"(?i)(?P<head>\bauthorization\s*[:=]\s*(?:bearer|basic|aws4-hmac-sha256)?\s*)"
            r"(?P<secret>[^\s,;\"']+)"
        ),
        lambda m: m.group("head") + REDACTED,
    ),
    # key=value / key: value / "key": "value" pairs whose key names a secret
    (
        re.compile(
            r"(?i)(?P<head>(?<![\w.:/-])[\"']?[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key"
            r"|access[_-]?key|private[_-]?key|credentials?)[\"']?\s*[:=]\s*[\"']?)"
            r"(?P<secret>[^\s\"',;&}]+)"
        ),
        lambda m: m.group("head") + REDACTED if m.group("secret") != REDACTED else m.group(0),
    ),
]

#: JSON keys whose string values are always secrets
_SECRET_KEY = re.compile(
    r"(?i)(?:^|[_\-.:])?(?:password|passwd|pwd|secret|secret[_-]?access[_-]?key|secretaccesskey"
    r"|session[_-]?token|sessiontoken|security[_-]?token|token|api[_-]?key|apikey"
    r"|private[_-]?key|authorization|client[_-]?secret|signing[_-]?secret)$"
)
#: JSON keys whose whole value (a mapping of name → value) holds environment variables
_ENV_KEYS = {"environment", "variables", "Environment", "Variables"}


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """Scrub tokens, keys and passwords out of free text, and any of the `known` values."""
    for value in known:
        text = text.replace(value, REDACTED)
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_json(value: Any, *, key: str | None = None, known: Iterable[str] = ()) -> Any:
    """Scrub a JSON-shaped value: secret-named keys, environment variables, then text."""
    known = tuple(known)
    if isinstance(value, dict):
        if key in _ENV_KEYS and all(isinstance(v, str) for v in value.values()):
            return dict.fromkeys(value, REDACTED)
        return {k: redact_json(v, key=str(k), known=known) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, key=key, known=known) for v in value]
    if isinstance(value, str):
        if key is not None and _SECRET_KEY.search(key) and value not in ("", REDACTED):
            return REDACTED
        return redact_text(value, known)
    return value


def known_secrets(snapshot: Snapshot) -> list[str]:
    """Environment values that escaped redaction at collection: scrubbed wherever they appear."""
    values = {v for v in snapshot.function.environment.values() if v != REDACTED and len(v) >= 4}
    return sorted(values, key=len, reverse=True)


# --------------------------------------------------------------------------- summary

_ERROR_MARKERS = re.compile(
    r"\[ERROR\]|\bERROR\b|AccessDenied|not authorized|Exception|Task timed out|"
    r"Runtime\.\w+|errorType|\bFATAL\b",
)


def error_lines(logs: Iterable[LogLine]) -> list[LogLine]:
    """Log lines that report an error."""
    return [line for line in logs if _ERROR_MARKERS.search(line.message)]


def _arn_account(arn: str | None) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


def workflow(snapshot: Snapshot) -> list[str]:
    """The services the function works with, one line each."""
    fn = snapshot.function
    lines: list[str] = []
    for trigger in snapshot.triggers:
        where = trigger.source_arn or trigger.name or "(source unknown)"
        lines.append(f"trigger     {trigger.service}: {where} (invokes as {trigger.principal})")
    for url in snapshot.function_urls:
        lines.append(f"trigger     function URL {url.url} (AuthType {url.auth_type})")
    for mapping in snapshot.event_source_mappings:
        state = f", state {mapping.state}" if mapping.state else ""
        lines.append(
            f"mapping     {mapping.source.type}: {mapping.source.arn or '(unknown)'}{state}"
        )
    for dest in snapshot.destinations:
        lines.append(f"destination {dest.kind} → {dest.service}: {dest.arn}")
    if fn.dead_letter_target and not any(d.kind == "dlq" for d in snapshot.destinations):
        lines.append(f"destination dlq: {fn.dead_letter_target}")
    if fn.vpc and fn.vpc.subnet_ids:
        lines.append(
            f"network     VPC {fn.vpc.vpc_id or '?'}: subnets {', '.join(fn.vpc.subnet_ids)}; "
            f"security groups {', '.join(fn.vpc.security_group_ids) or '-'}"
        )
    if fn.kms_key_arn:
        lines.append(f"encryption  KMS key for environment variables: {fn.kms_key_arn}")
    if fn.tracing_mode == "Active":
        lines.append("tracing     AWS X-Ray active tracing")
    for fs in fn.file_systems:
        lines.append(f"storage     EFS {fs.arn} at {fs.local_mount_path}")
    for layer in fn.layers:
        lines.append(f"layer       {layer.arn}")
    lines.append(f"logging     CloudWatch Logs group {fn.logging.log_group}")
    return lines


def cross_account(snapshot: Snapshot, report: Report) -> list[str]:
    """ARNs (or accounts) outside the function's own account that take part."""
    own = snapshot.account
    found: list[str] = []
    candidates: list[str | None] = [snapshot.function.role_arn]
    candidates += [t.source_arn for t in snapshot.triggers]
    candidates += [
        f"arn:aws:iam::{t.source_account}:root" for t in snapshot.triggers if t.source_account
    ]
    candidates += [m.source.arn for m in snapshot.event_source_mappings]
    candidates += [d.arn for d in snapshot.destinations]
    candidates += [layer.arn for layer in snapshot.function.layers]
    candidates += [snapshot.function.kms_key_arn]
    candidates += [r.arn for r in snapshot.assumed_roles]
    candidates += [f.principal for f in report.findings if f.status in (Status.FAIL, Status.WARN)]
    for arn in candidates:
        account = _arn_account(arn)
        if account is None and arn and arn.isdigit() and len(arn) == 12:
            account = arn
        if account and account != own and arn not in found:
            found.append(arn or account)
    return found


_PATTERN_KEYS = ("pattern", "intermittent", "frequency", "occurrence", "continuity")


def occurrence(snapshot: Snapshot, escalation: dict[str, str] | None) -> str:
    """Intermittent or continuous: the escalation answer, else the timeline's, else unknown."""
    for key in _PATTERN_KEYS:
        answer = (escalation or {}).get(key)
        if answer:
            return f"{answer} (reported by the requester)"
    try:
        timeline = importlib.import_module("bot.timeline")
    except ModuleNotFoundError:
        timeline = None
    pattern = getattr(timeline, "pattern", None) if timeline is not None else None
    if callable(pattern):
        result = pattern(snapshot)
        if result and result != "unknown":
            return f"{result} (from CloudTrail and the function's logs)"
    return "unknown"


def _statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    raw = (policy or {}).get("Statement") or []
    items = raw if isinstance(raw, list) else [raw]
    return [item for item in items if isinstance(item, dict)]


def _statement_line(statement: dict[str, Any]) -> str:
    """`Sid: Allow <principal> <actions> [if <condition>]`, compact."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = ", ".join(
            str(v) for vs in principal.values() for v in (vs if isinstance(vs, list) else [vs])
        )
    action = statement.get("Action") or statement.get("NotAction") or ""
    actions = ", ".join(action) if isinstance(action, list) else str(action)
    condition = statement.get("Condition")
    when = f" if {json.dumps(condition, separators=(',', ':'))}" if condition else ""
    sid = statement.get("Sid") or "(no Sid)"
    return f"{sid}: {statement.get('Effect', '?')} {principal or '?'} {actions}{when}"


def _time(value: datetime | None) -> str:
    return utc_iso(value) if value is not None else "unknown"


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"- [{finding.status.value.upper()}] {finding.check}: {finding.title}"]
    if finding.principal:
        lines.append(f"    principal:  {finding.principal}")
    if finding.actions:
        lines.append(f"    actions:    {', '.join(finding.actions)}")
    if finding.resources:
        lines.append(f"    resources:  {', '.join(finding.resources)}")
    if finding.source:
        lines.append(f"    source:     {finding.source}")
    if finding.denied_by:
        lines.append(f"    denied by:  {', '.join(finding.denied_by)} policy")
    for evidence in finding.evidence:
        where = evidence.policy or "?"
        sid = f" (Sid {evidence.sid})" if evidence.sid else ""
        lines.append(f"    evidence:   {where}{sid}")
    if finding.fix:
        lines.append(f"    fix:        {finding.fix.summary}")
    return lines


def summary_text(
    report: Report, snapshot: Snapshot, escalation: dict[str, str] | None = None
) -> str:
    """`summary.txt`: the facts of an AWS Support case, plain text, UTC throughout."""
    fn = snapshot.function
    errors = error_lines(snapshot.logs)
    error_events = [e for e in report.events if e.error]
    error_times = [line.time for line in errors] + [e.time for e in error_events]
    others = cross_account(snapshot, report)
    role = snapshot.role
    problems = [f for f in report.findings if f.status in (Status.FAIL, Status.WARN)]
    unknown = [f for f in report.findings if f.status is Status.UNKNOWN]

    out: list[str] = [
        "lambda-why support bundle",
        "=========================",
        "",
        f"Function ARN:       {fn.arn}" + (f" (qualifier {fn.qualifier})" if fn.qualifier else ""),
        f"Account / Region:   {snapshot.account} / {snapshot.region}",
        f"Runtime / Package:  {fn.runtime or fn.image_uri or '?'} / {fn.package_type}",
        f"State:              {fn.state or '?'}"
        + (f" ({fn.state_reason_code}: {fn.state_reason})" if fn.state_reason else ""),
        f"Last modified:      {fn.last_modified or 'unknown'}",
        f"Result:             {report.summary.fail} fail, {report.summary.warn} warn, "
        f"{report.summary.pass_} pass, {report.summary.unknown} unknown",
        "",
        f"Intermittent or continuous: {occurrence(snapshot, escalation)}",
        "Cross-account:      "
        + (f"yes — {', '.join(others)}" if others else f"no (all within {snapshot.account})"),
        "",
        "Timestamps (UTC)",
        "----------------",
        f"First error seen:   {_time(min(error_times)) if error_times else 'none in the window'}",
        f"Last error seen:    {_time(max(error_times)) if error_times else 'none in the window'}",
        f"Window read:        {_time(snapshot.window_start)} — {_time(snapshot.window_end)}",
        f"Collected at:       {_time(snapshot.collected_at)}",
        f"Checked at:         {_time(report.checked_at)}",
        "",
        "Services in the workflow",
        "------------------------",
        *workflow(snapshot),
        "",
        "IAM roles and permissions involved",
        "----------------------------------",
        f"Execution role:     {fn.role_arn}"
        + ("" if role is None or role.exists else " (could not be read)"),
    ]
    if role is not None:
        for policy in role.attached_policies:
            out.append(f"  attached policy:  {policy.label}")
        for policy in role.inline_policies:
            out.append(f"  inline policy:    {policy.name}")
        if role.boundary is not None:
            out.append(f"  boundary:         {role.boundary.label}")
    for assumed in snapshot.assumed_roles:
        out.append(f"Role assumed by the code: {assumed.arn}")
    statements = _statements(snapshot.resource_policy)
    out.append(
        f"Resource policy:    {len(statements)} statement(s)"
        if statements
        else "Resource policy:    none"
    )
    for statement in statements:
        out.append(f"  {_statement_line(statement)}")
    if snapshot.organization is None or (
        snapshot.organization.scp is None and snapshot.organization.rcp is None
    ):
        out.append("SCPs / RCPs:        not evaluated")
    out += ["", "Findings (fail and warn)", "------------------------"]
    out += [line for f in problems for line in _finding_lines(f)] or ["none"]
    if unknown:
        out += ["", "Could not be decided", "--------------------"]
        out += [line for f in unknown for line in _finding_lines(f)]
    if report.gaps:
        out += ["", "Reads that failed", "-----------------"]
        out += [
            f"- {g.operation} {g.resource or ''}: {g.error}".replace("  ", " ") for g in report.gaps
        ]
    if report.events:
        out += ["", "CloudTrail events (newest first)", "--------------------------------"]
        for event in report.events:
            error = f" [{event.error}]" if event.error else ""
            out.append(
                f"{_time(event.time)} {event.event}{error} by {event.actor or '?'} {event.summary}"
            )
    if errors:
        out += ["", "Error log lines (latest 20)", "---------------------------"]
        out += [f"{_time(line.time)} {line.message.strip()}" for line in errors[-20:]]
    if escalation:
        out += ["", "Escalation answers", "------------------"]
        out += [f"{key}: {value}" for key, value in escalation.items()]
    if report.notes:
        out += ["", "Notes", "-----", *report.notes]
    return redact_text("\n".join(out) + "\n", known_secrets(snapshot))


def logs_text(snapshot: Snapshot) -> str:
    """`logs.txt`: one line per log event, `<UTC time> [<stream>] <message>`, oldest first."""
    lines = sorted(snapshot.logs, key=lambda line: line.time)
    header = (
        f"# CloudWatch Logs {snapshot.function.logging.log_group}, "
        f"{_time(snapshot.window_start)} — {_time(snapshot.window_end)} (UTC)\n"
    )
    if not lines:
        gap = snapshot.gap_for("logs:FilterLogEvents")
        reason = f"could not be read: {gap.error}" if gap else "no log lines in the window"
        return header + f"# {reason}\n"
    omitted = 0
    if len(lines) > MAX_LOG_LINES:
        half = MAX_LOG_LINES // 2
        omitted = len(lines) - MAX_LOG_LINES
        lines = lines[:half] + lines[-half:]
    body: list[str] = []
    for index, line in enumerate(lines):
        if omitted and index == MAX_LOG_LINES // 2:
            body.append(f"# ... {omitted} lines omitted ...")
        stamp = line.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        stream = f" [{line.stream}]" if line.stream else ""
        body.append(f"{stamp}{stream} {line.message.rstrip()}")
    return header + redact_text("\n".join(body), known_secrets(snapshot)) + "\n"


def _json_bytes(value: Any, known: Iterable[str]) -> bytes:
    return (
        json.dumps(redact_json(value, known=known), indent=2, ensure_ascii=False) + "\n"
    ).encode()


def bundle_name(report: Report) -> str:
    """`lambda-why-<function>-<UTC time>.zip`."""
    _, marker, rest = report.function.partition(":function:")
    name = rest.replace(":", "-") if marker else "function"
    return f"lambda-why-{name}-{report.checked_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.zip"


def build_bundle(
    report: Report, snapshot: Snapshot, *, escalation: dict[str, str] | None = None
) -> bytes:
    """The support bundle as `.zip` bytes (CONTRACTS §5)."""
    snapshot_doc = snapshot.model_dump(mode="json")
    # environment values are redacted at collection; do it again, whatever they hold
    snapshot_doc["function"]["environment"] = dict.fromkeys(snapshot.function.environment, REDACTED)
    known = known_secrets(snapshot)
    files: dict[str, bytes] = {
        "summary.txt": summary_text(report, snapshot, escalation).encode(),
        "findings.json": _json_bytes(report.to_json_dict(), known),
        "logs.txt": logs_text(snapshot).encode(),
        "snapshot.json": _json_bytes(snapshot_doc, known),
    }
    if escalation:
        files["escalation.json"] = _json_bytes(escalation, known)
    stamp = report.checked_at.astimezone(UTC)
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
