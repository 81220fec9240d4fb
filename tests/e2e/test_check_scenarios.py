"""Every seeded scenario diagnosed by `lambda-why check --json` against moto (issue #3).

A broken scenario must produce its declared root cause (check id, status, principal,
actions ⊇ expected, source, denied_by); a healthy one must produce no `fail`. Exit codes
follow CONTRACTS §2.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.run import matches
from bot.demo.scenarios import SCENARIO_KEYS, Scenario
from bot.report import Finding

from .conftest import CheckRun, Seeded, lambda_why

#: scenarios that fail because of a known bug in the code under test (/tmp/team/bugs.md);
#: strict, so a fix turns them into failures that ask for this entry to be removed
KNOWN_BUGS: dict[str, str] = {}


def _params() -> list[Any]:
    return [
        pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[key]))
        if key in KNOWN_BUGS
        else key
        for key in SCENARIO_KEYS
    ]


_RUNS: dict[str, CheckRun] = {}


def check(seeded: Seeded, scenario: Scenario) -> CheckRun:
    if scenario.key not in _RUNS:
        args = ["check", scenario.function_arn, "--json"]
        if scenario.scan_triggers:
            args.append("--scan-triggers")
        _RUNS[scenario.key] = lambda_why(args, seeded.env(), seeded.home)
    return _RUNS[scenario.key]


def _describe(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.status.value} {f.check} principal={f.principal} actions={f.actions} "
        f"source={f.source} denied_by={f.denied_by}"
        for f in findings
    )


@pytest.mark.parametrize("key", _params())
def test_scenario_diagnosis(seeded: Seeded, key: str) -> None:
    scenario = seeded.scenarios[key]
    run = check(seeded, scenario)
    assert run.code in (0, 1), f"exit {run.code}: {run.stderr.strip()}"
    doc = run.document
    assert doc["function"] == scenario.function_arn
    assert doc["account"] == scenario.account
    assert doc["region"] == scenario.region
    findings = [Finding.model_validate(f) for f in doc["findings"]]
    failing = [f for f in findings if f.status.value == "fail"]
    if scenario.healthy:
        assert failing == [], f"healthy {key} has failures:\n{_describe(failing)}"
        assert run.code == 0
    for expected in scenario.expected:
        assert any(matches(f, expected) for f in findings), (
            f"{key}: expected {expected.model_dump(exclude_none=True)}\ngot:\n{_describe(findings)}"
        )
    assert run.code == (1 if failing else 0)
    # the document is the contract's: counts agree, UTC "Z" time
    counts = {status: sum(f.status.value == status for f in findings) for status in doc["summary"]}
    assert counts == doc["summary"]
    assert doc["checked_at"].endswith("Z")
    assert isinstance(doc["events"], list)
    assert isinstance(doc["gaps"], list)


def test_scenarios_declare_what_they_test(seeded: Seeded) -> None:
    for scenario in seeded.scenarios.values():
        if not scenario.healthy:
            assert scenario.expected, scenario.key
            assert all(e.status.value in ("fail", "warn") for e in scenario.expected)
        else:
            assert all(e.status.value == "pass" for e in scenario.expected)


def test_alias_qualified_arn(seeded: Seeded) -> None:
    arn = seeded.scenarios["healthy"].function_arn + ":live"
    run = lambda_why(["check", arn, "--json"], seeded.env(), seeded.home)
    assert run.code == 0, run.stderr
    doc = run.document
    assert doc["function"] in (arn, seeded.scenarios["healthy"].function_arn)
    assert all(f["status"] != "fail" for f in doc["findings"])


def test_text_output_exit_code(seeded: Seeded) -> None:
    scenario = seeded.scenarios["trust-wrong"]
    run = lambda_why(["check", scenario.function_arn], seeded.env(), seeded.home)
    assert run.code == 1
    assert "execution-role-trust" in run.stdout or "assume" in run.stdout.lower()


def test_alias_permission_checked_on_the_alias(seeded: Seeded) -> None:
    scenario = seeded.scenarios["alias-permission"]
    run = lambda_why(
        ["check", scenario.function_arn + ":live", "--json"], seeded.env(), seeded.home
    )
    assert run.code == 1, run.stderr
    findings = [Finding.model_validate(f) for f in run.document["findings"]]
    assert any(matches(f, e) for e in scenario.expected for f in findings), _describe(findings)


def test_kms_env_log_lines_give_one_finding_on_the_key(seeded: Seeded) -> None:
    """The long and the short KMSAccessDeniedException lines are one denial of one key."""
    run = check(seeded, seeded.scenarios["kms-env"])
    findings = [Finding.model_validate(f) for f in run.document["findings"]]
    evidence = [f for f in findings if f.check == "log-evidence" and "kms:Decrypt" in f.actions]
    assert len(evidence) == 1, _describe(evidence)
    [finding] = evidence
    assert finding.resources != ["*"]
    assert finding.resources[0].startswith("arn:aws:kms:")
    assert finding.denied_by == ["resource"]
