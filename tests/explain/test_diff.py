"""`diff`: two snapshot fixtures compared; the differences that explain the failure first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.explain.diff import FunctionDiff, compare
from bot.snapshot import Snapshot

FIXTURES = Path(__file__).parent / "fixtures"
FAILING = FIXTURES / "diff_failing.json"
WORKING = FIXTURES / "diff_working.json"


def result() -> FunctionDiff:
    return compare(Snapshot.load(FAILING), Snapshot.load(WORKING))


def test_explaining_differences_come_first() -> None:
    diffs = result().differences
    explaining = [d for d in diffs if d.explains]
    assert explaining, diffs
    first_other = next(i for i, d in enumerate(diffs) if not d.explains)
    assert all(d.explains for d in diffs[:first_other])
    assert diffs[0].category == "check"


def test_vpc_permission_difference_explains() -> None:
    by_item = {(d.category, d.item): d for d in result().differences}
    eni = by_item[("permission", "ec2:CreateNetworkInterface")]
    assert eni.explains
    assert eni.failing.startswith("not allowed")
    assert eni.working.startswith("allowed")
    assert by_item[("check", "vpc-eni")].failing == "fail"
    assert by_item[("check", "vpc-eni")].working == "pass"


def test_policy_action_only_in_working_role() -> None:
    by_item = {(d.category, d.item): d for d in result().differences}
    put = by_item[("permission", "dynamodb:PutItem")]
    assert put.explains
    assert put.note == "named in the roles' policies"


def test_resource_policy_principal_and_features() -> None:
    by_item = {(d.category, d.item): d for d in result().differences}
    s3 = by_item[("resource-policy", "s3.amazonaws.com from arn:aws:s3:::uploads")]
    assert s3.failing == "not allowed"
    assert s3.working == "lambda:InvokeFunction"
    assert s3.explains
    tracing = by_item[("feature", "tracing")]
    assert (tracing.failing, tracing.working) == ("Active", "PassThrough")
    assert tracing.explains
    assert ("feature", "vpc") not in by_item  # both in the same VPC


def test_identical_functions_have_no_differences() -> None:
    snap = Snapshot.load(WORKING)
    diff = compare(snap, snap)
    assert diff.differences == []
    assert any("SCPs and RCPs were not evaluated" in n for n in diff.notes)


def test_cli_json_from_snapshot_files(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(FAILING), str(WORKING), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["failing"].endswith(":function:orders")
    assert document["working"].endswith(":function:orders-staging")
    assert document["differences"][0]["explains"] is True


def test_cli_bad_snapshot_path(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "/nonexistent/a.json", str(WORKING)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
