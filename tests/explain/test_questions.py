"""`check ARN --as / --action / --resource / --assume` against moto, end to end."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from bot.cli import main
from tests.aws.conftest import ACCOUNT, REGION, TRUST, policy, seed_function

TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"


def run_check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["check", "orders", "--json", *argv])
    document = json.loads(capsys.readouterr().out)
    return code, [f for f in document["findings"] if f["check"] in ("question", "assume-role")]


def make_user(name: str, *statements: dict[str, Any]) -> str:
    iam = boto3.client("iam")
    arn: str = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    return arn


def test_as_user_allowed_to_invoke(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seed_function()
    user = make_user(
        "caller", {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}
    )
    _, [finding] = run_check(capsys, "--as", user)
    assert finding["status"] == "pass"
    assert finding["principal"] == user
    assert finding["actions"] == ["lambda:InvokeFunction"]


def test_as_user_denied_gets_a_fix(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seed_function()
    user = make_user("nobody")
    code, [finding] = run_check(capsys, "--as", user)
    assert code == 1
    assert finding["status"] == "fail"
    assert "identity" in finding["denied_by"]
    assert any("put-user-policy --user-name nobody" in c for c in finding["fix"]["commands"])


def test_update_configuration_needs_pass_role(
    moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = seed_function()
    user = make_user("deployer", {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"})
    _, findings = run_check(capsys, "--as", user, "--action", "lambda:UpdateFunctionConfiguration")
    by_action = {f["actions"][0]: f for f in findings}
    assert by_action["lambda:UpdateFunctionConfiguration"]["status"] == "pass"
    passrole = by_action["iam:PassRole"]
    assert passrole["status"] == "fail"
    assert passrole["resources"] == [seeded.role_arn]


def test_as_service_denied_by_resource_policy(
    moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_function()
    _, [finding] = run_check(capsys, "--as", "sns.amazonaws.com")
    assert finding["status"] == "fail"
    assert finding["denied_by"] == ["resource"]
    assert finding["principal"] == "sns.amazonaws.com"


def test_role_question_action_resource(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seeded = seed_function()
    _, [denied] = run_check(capsys, "--action", "dynamodb:PutItem", "--resource", TABLE)
    assert denied["status"] == "fail"
    assert denied["principal"] == seeded.role_arn
    assert denied["denied_by"] == ["identity"]
    _, [allowed] = run_check(capsys, "--action", "dynamodb:GetItem", "--resource", TABLE)
    assert allowed["status"] == "pass"


def test_assume_role_both_sides(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seed_function()
    target = boto3.client("iam").create_role(
        RoleName="reports-reader", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    code, [finding] = run_check(capsys, "--assume", target)
    assert code == 1
    assert finding["check"] == "assume-role"
    assert finding["status"] == "fail"
    assert "resource" in finding["denied_by"]
    # same account: either side may grant it
    assert "trust policy" in finding["fix"]["summary"]
    assert any("put-role-policy --role-name orders-role" in c for c in finding["fix"]["commands"])


def test_bad_question_input(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seed_function()
    assert main(["check", "orders", "--resource", TABLE]) == 2
    assert "--resource needs --action" in capsys.readouterr().err
    assert main(["check", "orders", "--as", "not a principal"]) == 2
