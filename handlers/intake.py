"""Turning a Slack request into a job: parse the function, authorize, rate-limit, enqueue.

Shared by the slash command, the mention, the message shortcut and the Rerun button, so
every entry point refuses the same things the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.arns import BadFunctionRef, FunctionRef, parse_function_ref
from bot.config import account_allowed, channel_allowed
from bot.queue import CheckJob, ExplainJob, SubmitResult
from bot.slack.audit import audit
from bot.slack.deps import SlackDeps
from bot.slack.extract import unwrap_links
from bot.slack.i18n import Translator
from bot.slack.refs import Requester, ThreadRef

_ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


@dataclass
class Refusal:
    """A request that is not queued; `text` tells the user why (ephemeral)."""

    text: str
    reason: str
    usage: bool = False


@dataclass
class Target:
    function_ref: str
    account: str


def _job_ref(ref: FunctionRef, account: str, own: str | None) -> str:
    """What the worker passes to the collectors."""
    if ref.region is not None:
        return ref.resolve(partition=ref.partition, region=ref.region, account=account).arn
    qualifier = f":{ref.qualifier}" if ref.qualifier else ""
    if account == own:
        return f"{ref.name}{qualifier}"
    return f"{account}:function:{ref.name}{qualifier}"


async def authorize(deps: SlackDeps, tr: Translator, account: str, channel: str) -> Refusal | None:
    """Channel -> account authorization from the configuration (CONTRACTS §4)."""
    if account not in deps.config.accounts:
        try:
            own = await deps.own_account.get()
        except Exception as exc:
            return Refusal(
                tr("error.account_not_allowed", account=account), f"own account unknown: {exc}"
            )
        if not account_allowed(deps.config, account, own):
            return Refusal(tr("error.account_not_allowed", account=account), "account")
    if not channel_allowed(deps.config, account, channel):
        return Refusal(tr("error.channel_not_allowed", account=account), "channel")
    return None


async def resolve_function(
    deps: SlackDeps, tr: Translator, text: str, channel: str
) -> Target | Refusal:
    """Parse a function reference and find the account it is in, then authorize."""
    cleaned = unwrap_links(text).strip().strip("`").strip()
    shown = cleaned[:200]
    if not cleaned:
        return Refusal(tr("error.empty"), "empty", usage=True)
    try:
        ref = parse_function_ref(cleaned)
    except (BadFunctionRef, ValueError) as exc:
        return Refusal(tr("error.bad_ref", text=shown, reason=str(exc)), "bad_ref", usage=True)
    own: str | None = None
    if ref.account is not None:
        account = ref.account
    else:
        mapped = [
            acct
            for acct, entry in deps.config.accounts.items()
            if entry.channels is not None and channel in entry.channels
        ]
        if len(mapped) == 1:
            account = mapped[0]
        elif len(mapped) > 1:
            return Refusal(
                tr("error.account_ambiguous", text=shown, accounts=", ".join(sorted(mapped))),
                "ambiguous",
            )
        else:
            try:
                own = await deps.own_account.get()
            except Exception as exc:
                return Refusal(tr("error.own_account_unknown", text=shown, reason=str(exc)), "aws")
            account = own
    refusal = await authorize(deps, tr, account, channel)
    if refusal is not None:
        return refusal
    if own is None and account not in deps.config.accounts:
        own = await deps.own_account.get()
    return Target(function_ref=_job_ref(ref, account, own), account=account)


async def rate_limited(deps: SlackDeps, tr: Translator, user: str) -> Refusal | None:
    limit = deps.rate_limit_per_minute
    if limit > 0 and not await deps.store.allow(user, limit, 60):
        return Refusal(tr("error.rate_limited", limit=limit), "rate_limited")
    return None


async def submit_check(
    deps: SlackDeps,
    tr: Translator,
    text: str,
    requester: Requester,
    *,
    kind: str,
    request_id: str | None,
    rerun_of: ThreadRef | None = None,
) -> tuple[CheckJob | None, SubmitResult | Refusal]:
    """Everything between "a user asked" and "a job is queued", audited once."""
    target = await resolve_function(deps, tr, text, requester.channel)
    if isinstance(target, Refusal):
        _audit(
            kind,
            requester=requester,
            request_id=request_id,
            account=None,
            function=None,
            job=None,
            outcome=target.reason,
        )
        return None, target
    limited = await rate_limited(deps, tr, requester.user)
    if limited is not None:
        _audit(
            kind,
            requester=requester,
            request_id=request_id,
            account=target.account,
            function=target.function_ref,
            job=None,
            outcome="rate_limited",
        )
        return None, limited
    job = CheckJob(
        function_ref=target.function_ref,
        account=target.account,
        requester=requester,
        rerun_of=rerun_of,
        request_id=request_id,
    )
    result = await deps.queue.submit(job)
    outcome = "joined" if result.joined else "queued"
    deps.metrics.requests.labels(kind=kind, outcome=outcome).inc()
    _audit(
        kind,
        requester=requester,
        request_id=request_id,
        account=target.account,
        function=target.function_ref,
        job=job.id,
        outcome=outcome,
    )
    return job, result


async def submit_explain(
    deps: SlackDeps,
    tr: Translator,
    message: str,
    requester: Requester,
    *,
    kind: str,
    request_id: str | None,
) -> SubmitResult | Refusal:
    """Queue an explanation of a pasted error (authorized on the account it names)."""
    if not message.strip():
        return Refusal(tr("error.explain_empty"), "empty", usage=True)
    if deps.parse_error is None:
        return Refusal(tr("error.no_explainer"), "no_explainer")
    parsed = deps.parse_error(message)
    if parsed is None:
        _audit(
            kind,
            requester=requester,
            request_id=request_id,
            account=None,
            function=None,
            job=None,
            outcome="not_access_error",
        )
        return Refusal(tr("error.not_access_error"), "not_access_error", usage=True)
    account = _account_of(parsed)
    if account is not None:
        refusal = await authorize(deps, tr, account, requester.channel)
        if refusal is not None:
            _audit(
                kind,
                requester=requester,
                request_id=request_id,
                account=account,
                function=None,
                job=None,
                outcome=refusal.reason,
            )
            return refusal
    limited = await rate_limited(deps, tr, requester.user)
    if limited is not None:
        return limited
    job = ExplainJob(message=message, account=account, requester=requester, request_id=request_id)
    result = await deps.queue.submit(job)
    deps.metrics.requests.labels(kind=kind, outcome="queued").inc()
    _audit(
        kind,
        requester=requester,
        request_id=request_id,
        account=account,
        function=None,
        job=job.id,
        outcome="queued",
    )
    return result


def _account_of(parsed: object) -> str | None:
    for attr in ("principal", "resource"):
        value = getattr(parsed, attr, None)
        if isinstance(value, str):
            match = _ACCOUNT_IN_ARN.search(value)
            if match:
                return match.group(1)
    return None


def _audit(
    kind: str,
    *,
    requester: Requester,
    request_id: str | None,
    account: str | None,
    function: str | None,
    job: str | None,
    outcome: str,
) -> None:
    audit(
        "request",
        kind=kind,
        user=requester.user,
        channel=requester.channel,
        account=account,
        function=(function or "")[:256] or None,
        job=job,
        request=request_id,
        outcome=outcome,
    )
