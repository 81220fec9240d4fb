"""Table-driven evaluator cases: every tests/iam/cases/**/*.json, each case citing its doc.

A file is {"doc": "<default doc URL>", "cases": [{"name", "doc"?, "request", "policies",
"expect": {"decision", "denied_by"?, "sids"?}}]}; `sids` lists the Sids (or null) of the
deciding statements, in any order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.iam import evaluate
from bot.iam.wire import policy_set_from_json, request_from_json

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.rglob("*.json")):
        data = json.loads(path.read_text())
        for case in data["cases"]:
            case.setdefault("doc", data.get("doc"))
            params.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return params


CASES = _load()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    assert case["doc"], "every case names the AWS doc section it follows"
    request = request_from_json(case["request"])
    policies = policy_set_from_json(case["policies"])
    decision = evaluate(request, policies)
    expect = case["expect"]
    assert decision.verdict.value == expect["decision"], decision.explanation
    if "denied_by" in expect:
        assert [t.value for t in decision.denied_by] == expect["denied_by"], decision.explanation
    if "sids" in expect:
        assert sorted(s.sid or "" for s in decision.statements) == sorted(
            s or "" for s in expect["sids"]
        )
