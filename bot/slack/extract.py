"""Find Lambda functions and access errors in Slack text, blocks and attachments.

Used by the mention handler and the "Diagnose with lambda-why" message shortcut, which must
read messages other tools posted: CloudWatch alarm notifications (AWS Chatbot / SNS email
bodies carry the alarm ARN and a `FunctionName` dimension), log links, pasted errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

#: a Lambda function ARN, optionally qualified (version, alias or $LATEST)
FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,140}"
    r"(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
#: a Lambda console link to a function
CONSOLE_URL = re.compile(
    r"https://(?:[a-z0-9-]+\.)?console\.aws\.amazon\.com/lambda/home\?[^\s>|]*#/functions/"
    r"[A-Za-z0-9_%:.-]+[^\s>|]*"
)
#: a CloudWatch alarm ARN: gives the region and account of an alarm notification
ALARM_ARN = re.compile(r"arn:(aws[a-z-]*):cloudwatch:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):alarm:")
#: `FunctionName = orders` / `"name": "FunctionName", "value": "orders"` / `FunctionName: orders`
FUNCTION_DIMENSION = re.compile(
    r"FunctionName\"?\s*(?:=|:|,\s*\"value\"\s*:)\s*\[?\"?([A-Za-z0-9_-]{1,140})"
)
#: CloudWatch's SNS JSON puts the value first: `{"value": "orders", "name": "FunctionName"}`
FUNCTION_DIMENSION_VALUE_FIRST = re.compile(
    r"\"value\"\s*:\s*\"([A-Za-z0-9_-]{1,140})\"\s*,\s*\"name\"\s*:\s*\"FunctionName\""
)
#: any ARN with a region and an account (an alarm, a log group, a queue...)
REGIONAL_ARN = re.compile(r"arn:(aws[a-z-]*):[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):")
#: AWS Chatbot: `CloudWatch Alarm | name | us-east-1 | Account: 111111111111`
ACCOUNT_LABEL = re.compile(r"Account(?:\s*Id)?\"?\s*[:=]\s*\"?(\d{12})", re.IGNORECASE)
REGION_WORD = re.compile(r"\b([a-z]{2}(?:-gov)?-[a-z]+-\d)\b")
#: `/aws/lambda/<name>` log group
LOG_GROUP = re.compile(r"/aws/lambda/([A-Za-z0-9_-]{1,140})")
#: text that looks like an access error worth explaining
ACCESS_ERROR = re.compile(
    r"AccessDenied|not authorized to perform|is not authorized|UnauthorizedOperation|"
    r"AccessDeniedException|does not have permissions? to|KMSAccessDenied|"
    r"explicit deny|no identity-based policy allows",
    re.IGNORECASE,
)
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|[^<>]*)?>")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def unwrap_links(text: str) -> str:
    """Slack's `<url|label>` and `<url>` become the bare url; user mentions are dropped."""
    text = _MENTION.sub(" ", text)
    return _SLACK_LINK.sub(lambda m: m.group(1), text).replace("&amp;", "&")


def texts_of(message: Mapping[str, Any]) -> list[str]:
    """Every piece of text in a message: `text`, Block Kit blocks and legacy attachments."""
    found: list[str] = []
    text = message.get("text")
    if isinstance(text, str) and text:
        found.append(text)
    found.extend(_walk(message.get("blocks") or []))
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, Mapping):
            continue
        for key in ("pretext", "title", "title_link", "text", "fallback", "footer"):
            value = attachment.get(key)
            if isinstance(value, str) and value:
                found.append(value)
        for item in attachment.get("fields") or []:
            if isinstance(item, Mapping):
                found.extend(
                    str(item[k]) for k in ("title", "value") if isinstance(item.get(k), str)
                )
        found.extend(_walk(attachment.get("blocks") or []))
    return found


def _walk(node: Any) -> Iterator[str]:
    """Strings under `text`, `url` and `value` keys anywhere in a block tree."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("text", "url", "value") and isinstance(value, str):
                yield value
            else:
                yield from _walk(value)
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for item in node:
            yield from _walk(item)


def function_refs(texts: Sequence[str]) -> list[str]:
    """Function references found, in order, without duplicates: ARNs, console links, and
    `FunctionName` dimensions or `/aws/lambda/` log groups of an alarm (made into ARNs with
    the alarm's region and account)."""
    joined = "\n".join(unwrap_links(t) for t in texts)
    refs: list[str] = []

    def add(ref: str) -> None:
        if ref not in refs:
            refs.append(ref)

    for match in FUNCTION_ARN.finditer(joined):
        add(match.group(0))
    for match in CONSOLE_URL.finditer(joined):
        add(unquote(match.group(0)))
    names = [m.group(1) for m in FUNCTION_DIMENSION.finditer(joined)]
    names += [m.group(1) for m in FUNCTION_DIMENSION_VALUE_FIRST.finditer(joined)]
    names += [m.group(1) for m in LOG_GROUP.finditer(joined)]
    where = _alarm_location(joined) if names else None
    if where is not None:
        partition, region, account = where
        for name in names:
            arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
            if not any(r.startswith(arn) for r in refs):
                add(arn)
    return refs


def _alarm_location(text: str) -> tuple[str, str, str] | None:
    """Partition, region and account of an alarm notification: from the alarm ARN, else any
    regional ARN, else an `Account: N` label and a region name."""
    for pattern in (ALARM_ARN, REGIONAL_ARN):
        match = pattern.search(text)
        if match is not None:
            partition, region, account = match.groups()
            return partition, region, account
    account_match = ACCOUNT_LABEL.search(text)
    region_match = REGION_WORD.search(text)
    if account_match is None or region_match is None:
        return None
    region = region_match.group(1)
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    if region.startswith("cn-"):
        partition = "aws-cn"
    return partition, region, account_match.group(1)


def access_error(texts: Sequence[str]) -> str | None:
    """The first text (or line run) that reads like an AWS access error, if any."""
    for text in texts:
        plain = unwrap_links(text)
        if ACCESS_ERROR.search(plain):
            return plain.strip()
    return None
