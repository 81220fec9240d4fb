"""Online `explain` against moto: principal and resource policies read and evaluated."""

from __future__ import annotations

import json

import boto3
import pytest

from bot.cli import main
from bot.cli.explain import gather_inputs
from bot.explain.evaluate import explain_findings
from bot.explain.parser import parse_message
from bot.report import Status
from tests.aws.conftest import ACCOUNT, REGION, TRUST, make_access, policy, seed_function

ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"


async def explain(message: str):  # type: ignore[no-untyped-def]
    parsed = parse_message(message)
    assert parsed is not None
    inputs = await gather_inputs(make_access(), parsed)
    return inputs, explain_findings(parsed, inputs)


async def test_missing_identity_allow_is_a_fail_with_put_role_policy(moto: None) -> None:
    seed_function()
    message = (
        f"An error occurred (AccessDeniedException) when calling the PutItem operation: User: "
        f"{ROLE_SESSION} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    inputs, findings = await explain(message)
    assert inputs.principal.kind == "role"
    assert inputs.principal.read
    [finding] = findings
    assert finding.check == "explain"
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["identity"]
    assert finding.principal == ROLE_SESSION
    assert finding.actions == ["dynamodb:PutItem"]
    assert "agrees with the message" in finding.detail
    assert "SCPs and RCPs were not evaluated" in finding.detail
    assert finding.fix is not None
    assert finding.fix.policy is not None
    assert finding.fix.policy["Statement"][0]["Action"] == "dynamodb:PutItem"
    assert finding.fix.policy["Statement"][0]["Resource"] == TABLE
    assert any("put-role-policy --role-name orders-role" in c for c in finding.fix.commands)


async def test_explicit_deny_points_at_the_statement(moto: None) -> None:
    seed_function()
    boto3.client("iam").put_role_policy(
        RoleName="orders-role",
        PolicyName="guardrail",
        PolicyDocument=policy(
            {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}
        ),
    )
    message = (
        f"User: {ROLE_SESSION} is not authorized to perform: dynamodb:DeleteItem on resource: "
        f"{TABLE} with an explicit deny in an identity-based policy"
    )
    _, [finding] = await explain(message)
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["identity"]
    assert any(
        ev.sid == "NoDeletes" and ev.policy == "orders-role/guardrail" for ev in finding.evidence
    )
    assert finding.fix is not None
    assert "NoDeletes" in finding.fix.summary


async def test_locally_allowed_denial_is_a_warning_naming_what_was_not_read(moto: None) -> None:
    seed_function()  # the role has dynamodb:GetItem on *
    message = (
        f"User: {ROLE_SESSION} is not authorized to perform: dynamodb:GetItem on resource: "
        f"{TABLE} with an explicit deny in a service control policy"
    )
    _, [finding] = await explain(message)
    assert finding.status is Status.WARN
    assert "service control policies" in finding.detail
    assert finding.denied_by == ["scp"]
    assert finding.fix is not None
    assert "organization" in finding.fix.summary


async def test_service_principal_denied_by_function_policy(moto: None) -> None:
    seeded = seed_function()
    message = (
        "User: sns.amazonaws.com is not authorized to perform: lambda:InvokeFunction on "
        f"resource: {seeded.function_arn} because no resource-based policy allows the "
        "lambda:InvokeFunction action"
    )
    inputs, [finding] = await explain(message)
    assert inputs.resource.state == "read"
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["resource"]
    assert finding.fix is not None
    assert any("add-permission" in c for c in finding.fix.commands)


async def test_trust_policy_of_target_role(moto: None) -> None:
    seed_function()
    iam = boto3.client("iam")
    target = iam.create_role(RoleName="reports-reader", AssumeRolePolicyDocument=json.dumps(TRUST))
    message = (
        f"User: {ROLE_SESSION} is not authorized to perform: sts:AssumeRole on resource: "
        f"{target['Role']['Arn']}"
    )
    inputs, [finding] = await explain(message)
    assert inputs.resource.state == "read"
    assert finding.status is Status.FAIL
    assert "resource" in finding.denied_by
    assert finding.fix is not None
    assert any(
        "update-assume-role-policy --role-name reports-reader" in c for c in finding.fix.commands
    )


async def test_iam_user_policies_are_read(moto: None) -> None:
    iam = boto3.client("iam")
    user = iam.create_user(UserName="dev")["User"]
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="dev")
    iam.put_group_policy(
        GroupName="devs",
        PolicyName="read",
        PolicyDocument=policy({"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"}),
    )
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
    ok = f"User: {user['Arn']} is not authorized to perform: lambda:GetFunction on resource: {fn}"
    inputs, [allowed] = await explain(ok)
    assert inputs.principal.kind == "user"
    assert [p.name for p in inputs.principal.identity] == ["group devs/read"]
    assert allowed.status is Status.WARN
    denied = (
        f"User: {user['Arn']} is not authorized to perform: lambda:UpdateFunctionCode "
        f"on resource: {fn}"
    )
    _, [finding] = await explain(denied)
    assert finding.status is Status.FAIL
    assert finding.fix is not None
    assert any("put-user-policy --user-name dev" in c for c in finding.fix.commands)


async def test_authorization_id_failure_is_an_unknown_finding(moto: None) -> None:
    seed_function()
    message = (
        f"User: {ROLE_SESSION} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{TABLE} because no identity-based policy allows the dynamodb:PutItem action. Go to "
        "https://us-east-1.console.aws.amazon.com/iam/home#/authorization-details/abc123def456 "
        "for complete details, or call the GetRequestAuthorizationDetails API with the "
        "following authorization id: abc123def456"
    )
    inputs, findings = await explain(message)
    assert [f.check for f in findings] == ["explain", "explain-authorization-details"]
    assert findings[1].status is Status.UNKNOWN
    assert any(g.operation == "iam:GetRequestAuthorizationDetails" for g in inputs.gaps)


async def test_lambda_configuration_message_gives_guidance(moto: None) -> None:
    message = (
        "The provided execution role does not have permissions to call "
        "CreateNetworkInterface on EC2"
    )
    _, [finding] = await explain(message)
    assert finding.status is Status.UNKNOWN
    assert finding.principal is None
    assert finding.fix is not None
    assert any("AWSLambdaVPCAccessExecutionRole" in c for c in finding.fix.commands)


def test_cli_online_json_and_exit_code(moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    seed_function()
    message = (
        f"User: {ROLE_SESSION} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{TABLE} because no identity-based policy allows the dynamodb:PutItem action"
    )
    code = main(["explain", message, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(out) == {"parsed", "findings"}
    assert out["findings"][0]["status"] == "fail"
    assert out["findings"][0]["denied_by"] == ["identity"]
