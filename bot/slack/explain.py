"""`/lambda-why explain` as a job: parse the pasted error, then read and evaluate.

Parsing is `bot.explain.parser.parse_message`; evaluation reads what the message names with
the explain command's `bot.cli.explain.gather_inputs(access, parsed)` and runs
`bot.explain.evaluate.explain_findings(parsed, inputs)` — the same as `lambda-why explain`.
"""

from __future__ import annotations

from typing import Any

from bot.queue import ExplainJob
from bot.report import Finding
from bot.worker import AccessFactory, ExplainFn, ExplainOutcome


async def evaluate(access: Any, parsed: Any) -> list[Finding]:
    """Read the principal, resource policy and organization policies; evaluate."""
    from bot.cli.explain import gather_inputs
    from bot.explain.evaluate import explain_findings

    inputs = await gather_inputs(access, parsed)
    return explain_findings(parsed, inputs)


def make_explain(access_factory: AccessFactory | None) -> ExplainFn | None:
    try:
        from bot.explain.parser import parse_message
    except ImportError:
        return None

    async def run(job: ExplainJob) -> ExplainOutcome:
        parsed = parse_message(job.message)
        if parsed is None:
            return ExplainOutcome(parsed=None)
        contract = parsed.contract_dict()
        if access_factory is None:
            return ExplainOutcome(parsed=contract)
        try:
            findings = await evaluate(access_factory(job.requester.user), parsed)
        except (ValueError, LookupError, PermissionError, RuntimeError, OSError) as exc:
            return ExplainOutcome(parsed=contract, error=str(exc))
        return ExplainOutcome(parsed=contract, findings=list(findings))

    return run
