"""`lambda-why explain MESSAGE [--json] [--offline]` (CONTRACTS §3).

Parses a pasted AccessDenied (or Lambda configuration) error. `--offline` only parses.
Otherwise the principal's policies and the resource's policy are read, the request is
re-evaluated, and with an authorization ID AWS's own record of the denial
(GetRequestAuthorizationDetails) is compared with the local verdict.

Exit codes: 0 parsed (no `fail` finding), 1 a `fail` finding, 2 not an access error /
bad input, 3 AWS could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.aws.errors import AccountNotAllowed, AwsUnavailable
from bot.cli import EXIT_AWS, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, CliError
from bot.explain.evaluate import ExplainInputs, explain_findings
from bot.explain.parser import ParsedError, parse_message
from bot.report import Finding, Status

NOT_AN_ACCESS_ERROR = (
    "not an access error: no 'is not authorized to perform', AccessDenied or Lambda "
    "permission message found"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain a pasted AccessDenied or Lambda permission error",
        description="Explain a pasted AccessDenied (or Lambda configuration) error message.",
    )
    parser.add_argument("message", metavar="MESSAGE", help="the error text, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--offline", action="store_true", help="only parse; read no policies from AWS"
    )
    parser.set_defaults(handler=run)


def read_message(value: str) -> str:
    """The message: the argument, or stdin for `-`. Bytes that are not UTF-8 (a paste from a
    Latin-1 terminal, binary noise) become U+FFFD instead of failing the read."""
    if value == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is not None:
            data: bytes = buffer.read()
            return data.decode("utf-8", errors="replace")
        return sys.stdin.read()
    return value


async def run(args: argparse.Namespace) -> int:
    text = read_message(args.message)
    if not text.strip():
        if args.json:
            print(json.dumps({"parsed": None, "findings": []}, indent=2))
        raise CliError("MESSAGE is empty: pass the error text, or - to read it from stdin")
    parsed = parse_message(text)
    if parsed is None:
        if args.json:
            print(json.dumps({"parsed": None, "findings": []}, indent=2))
        print(f"lambda-why: {NOT_AN_ACCESS_ERROR}", file=sys.stderr)
        return EXIT_BAD_INPUT
    findings: list[Finding] = []
    if not args.offline:
        try:
            findings = await _online(parsed)
        except AwsUnavailable as exc:
            raise CliError(str(exc), EXIT_AWS) from exc
        except AccountNotAllowed as exc:
            raise CliError(str(exc), EXIT_BAD_INPUT) from exc
    document = {
        "parsed": parsed.contract_dict(),
        "findings": [f.model_dump(mode="json", by_alias=True) for f in findings],
    }
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(render_text(parsed, findings))
    return EXIT_FAIL if any(f.status is Status.FAIL for f in findings) else EXIT_OK


async def _online(parsed: ParsedError) -> list[Finding]:
    """Read what the message names and evaluate it (composition root: settings read here)."""
    from bot.aws.access import AwsAccess
    from bot.config import ConfigError, load_config

    try:
        settings, config = load_config()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from exc
    access = AwsAccess(settings, config)
    inputs = await gather_inputs(access, parsed)
    return explain_findings(parsed, inputs)


async def gather_inputs(access: Any, parsed: ParsedError) -> ExplainInputs:
    """Read the principal, the resource policy and (with an ID) AWS's authorization details."""
    from bot.arns import region_of
    from bot.aws.explain_reads import read_principal, read_resource_policy
    from bot.aws.iam_toolbox import read_authorization_details
    from bot.aws.organizations import read_org_policies
    from bot.aws.reader import Reader

    own = await access.own_identity()
    region = (
        (region_of(parsed.resource) if parsed.resource else None)
        or access.default_region
        or "us-east-1"
    )
    reader = Reader(access, account=own.account, region=region, partition=own.partition)
    principal = await read_principal(reader, parsed.principal)
    resource = await read_resource_policy(reader, parsed.action, parsed.resource)
    org_account = principal.account if (principal.account or "").isdigit() else own.account
    organization = await read_org_policies(reader, org_account or own.account)
    details = None
    if parsed.authorization_id:
        details = await read_authorization_details(
            reader, parsed.authorization_id, region=parsed.authorization_region
        )
    return ExplainInputs(
        principal=principal,
        resource=resource,
        organization=organization,
        gaps=list(reader.gaps),
        authorization_details=details,
        account=own.account,
        region=region,
    )


def render_text(parsed: ParsedError, findings: list[Finding]) -> str:
    """The human-readable form."""
    lines = ["Parsed:"]
    for key, value in parsed.contract_dict().items():
        lines.append(f"  {key:17} {value if value is not None else '-'}")
    if len(parsed.actions) > 1:
        lines.append(f"  {'all actions':17} {', '.join(parsed.actions)}")
    if parsed.via_policy_type:
        lines.append(f"  {'through':17} {parsed.via_policy_type}")
    if parsed.encoded_message:
        lines.append(
            "  decode with:      aws sts decode-authorization-message --encoded-message "
            f"{parsed.encoded_message[:24]}..."
        )
    for finding in findings:
        lines.append("")
        lines.append(f"[{finding.status.value.upper()}] {finding.title}")
        if finding.detail:
            lines.append(f"  {finding.detail}")
        for ev in finding.evidence[:5]:
            where = " ".join(x for x in (ev.policy, f"sid={ev.sid}" if ev.sid else None) if x)
            lines.append(f"  evidence: {where}: {ev.text}")
        if finding.fix is not None:
            lines.append(f"  fix: {finding.fix.summary}")
            for command in finding.fix.commands:
                lines.append(f"    $ {command}")
    return "\n".join(lines)
