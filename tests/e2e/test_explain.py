"""`lambda-why explain` on real-shaped error messages from the seeded scenarios (CONTRACTS §3)."""

from __future__ import annotations

import json

import boto3

from .conftest import Seeded, lambda_why

ACCOUNT = "123456789012"


def _key_arn(seeded: Seeded) -> str:
    client = boto3.client(
        "lambda",
        endpoint_url=seeded.endpoint.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return str(client.get_function_configuration(FunctionName="payroll-export")["KMSKeyArn"])


def test_kms_denial_is_explained_by_the_key_policy(seeded: Seeded) -> None:
    key = _key_arn(seeded)
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/payroll-export-role/payroll-export"
    message = (
        "An error occurred (AccessDeniedException) when calling the Decrypt operation: "
        f"User: {session} is not authorized to perform: kms:Decrypt on resource: {key} "
        "because no resource-based policy allows the kms:Decrypt action"
    )
    run = lambda_why(["explain", message, "--json"], seeded.env(), seeded.home)
    assert run.code in (0, 1), run.stderr
    parsed = run.document["parsed"]
    assert parsed["principal"] == session
    assert parsed["action"] == "kms:Decrypt"
    assert parsed["resource"] == key
    assert parsed["decision"] == "implicit_deny"
    assert parsed["policy_type"] == "resource"
    failing = [f for f in run.document["findings"] if f["status"] == "fail"]
    assert any("kms:Decrypt" in f["actions"] and "resource" in f["denied_by"] for f in failing)


def test_sqs_denial_is_explained_by_the_role(seeded: Seeded) -> None:
    message = (
        "An error occurred (AccessDenied) when calling the ReceiveMessage operation: User: "
        f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-worker-role/orders-worker is not "
        "authorized to perform: sqs:receivemessage on resource: "
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-queue because no identity-based policy "
        "allows the sqs:receivemessage action"
    )
    run = lambda_why(["explain", message, "--json"], seeded.env(), seeded.home)
    assert run.code in (0, 1), run.stderr
    parsed = run.document["parsed"]
    assert parsed["action"].lower() == "sqs:receivemessage"
    assert parsed["policy_type"] == "identity"
    failing = [f for f in run.document["findings"] if f["status"] == "fail"]
    assert any("identity" in f["denied_by"] for f in failing), json.dumps(run.document)


def test_lambda_configuration_message_parses_to_its_action(seeded: Seeded) -> None:
    message = (
        "The provided execution role does not have permissions to call "
        "CreateNetworkInterface on EC2"
    )
    run = lambda_why(["explain", message, "--json", "--offline"], seeded.env(), seeded.home)
    assert run.code in (0, 1), run.stderr
    assert run.document["parsed"]["action"] == "ec2:CreateNetworkInterface"


def test_not_an_access_error_is_bad_input(seeded: Seeded) -> None:
    run = lambda_why(["explain", "the build is green", "--json"], seeded.env(), seeded.home)
    assert run.code == 2
    assert run.stderr.strip()
    if run.stdout.strip():
        assert json.loads(run.stdout)["parsed"] is None
