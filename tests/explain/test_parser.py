"""Table-driven parser tests: real-shaped messages (cases/parser_cases.json) → fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.explain.parser import CONTRACT_KEYS, normalise_action, parse_message

_CASES_DIR = Path(__file__).parent / "cases"


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((_CASES_DIR / name).read_text(encoding="utf-8"))
    return cases


#: parser_cases.json: the first table; parser_cases_real2.json and parser_cases_real3.json:
#: further real messages (public bug reports, Q&A pages, AWS docs), each with its `source`,
#: none repeating an earlier table's
FIRST = _load("parser_cases.json")
REAL2 = _load("parser_cases_real2.json")
REAL3 = _load("parser_cases_real3.json")
CASES = FIRST + REAL2 + REAL3


def test_table_is_large_and_named_uniquely() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    assert sum(1 for c in CASES if c["expect"] is not None) >= 80
    assert all(c.get("source") for c in REAL2 + REAL3)


def test_later_tables_repeat_no_earlier_message() -> None:
    first = {c["message"].strip() for c in FIRST}
    assert not [c["name"] for c in REAL2 if c["message"].strip() in first]
    earlier = first | {c["message"].strip() for c in REAL2}
    assert not [c["name"] for c in REAL3 if c["message"].strip() in earlier]


def test_third_table_names_every_contract_field() -> None:
    """Every real3 case states the five judged fields (action, principal, resource, decision,
    policy type), so a field that drifts is caught, not skipped."""
    judged = {"principal", "action", "resource", "decision", "policy_type"}
    assert not [c["name"] for c in REAL3 if c["expect"] and judged - set(c["expect"])]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_parse(case: dict[str, Any]) -> None:
    parsed = parse_message(case["message"])
    if case["expect"] is None:
        assert parsed is None
        return
    assert parsed is not None, f"not recognised: {case['message']!r}"
    got = parsed.model_dump()
    for key, want in case["expect"].items():
        assert got[key] == want, f"{key}: got {got[key]!r}, want {want!r}"


def test_contract_dict_has_exactly_the_contract_keys() -> None:
    parsed = parse_message(CASES[0]["message"])
    assert parsed is not None
    assert list(parsed.contract_dict()) == list(CONTRACT_KEYS)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("S3:GetObject", "s3:GetObject"),
        ("sqs:receivemessage", "sqs:ReceiveMessage"),
        ("SNS:Publish", "sns:Publish"),
        ("s3:Get*", "s3:Get*"),
        ("madeup:DoThing", "madeup:DoThing"),
    ],
)
def test_normalise_action(raw: str, want: str) -> None:
    assert normalise_action(raw) == want
