"""`/lambda-why explain` as a job: parse the pasted error, then evaluate when possible.

Parsing is the explain helper's `bot.explain.parser.parse_message`. Evaluation (reading
the policies involved and running them through the evaluator) is the explain command's
`bot.cli.explain.evaluate_parsed(access, parsed) -> list[Finding]` when it is installed;
without it the answer is what the message itself says.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from bot.queue import ExplainJob
from bot.report import Finding
from bot.worker import AccessFactory, ExplainFn, ExplainOutcome

Evaluator = Callable[[Any, Any], Awaitable[list[Finding]]]


def _evaluator() -> Evaluator | None:
    for module_name, attr in (
        ("bot.cli.explain", "evaluate_parsed"),
        ("bot.explain", "evaluate_parsed"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, attr, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    return None


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
        evaluate = _evaluator()
        if evaluate is None or access_factory is None or job.account is None:
            return ExplainOutcome(parsed=contract)
        try:
            findings = await evaluate(access_factory(job.requester.user), parsed)
        except (ValueError, LookupError, PermissionError, RuntimeError, OSError) as exc:
            return ExplainOutcome(parsed=contract, error=str(exc))
        return ExplainOutcome(parsed=contract, findings=list(findings))

    return run
