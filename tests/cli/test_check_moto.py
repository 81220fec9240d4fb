"""`lambda-why check` end to end against a moto server, as a separate process.

One healthy and one broken (VPC without ENI permissions) function are seeded in moto;
`check --json` must report no failure for the first and the VPC root cause, with the
execution role as principal, for the second. Also: an unknown function is exit 2, and an
unreachable endpoint is exit 3.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.demo.moto import DEFAULT_ACCOUNT, MotoEndpoint, moto_server

ROOT = Path(__file__).resolve().parents[2]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buf.getvalue()


def _session(endpoint: MotoEndpoint) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=endpoint.region,
    )


def _seed(endpoint: MotoEndpoint) -> dict[str, str]:
    s = _session(endpoint)
    iam = s.client("iam", endpoint_url=endpoint.endpoint_url)
    lam = s.client("lambda", endpoint_url=endpoint.endpoint_url)
    ec2 = s.client("ec2", endpoint_url=endpoint.endpoint_url)
    roles: dict[str, str] = {}
    for name in ("healthy-role", "vpc-role"):
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=BASIC)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    common: dict[str, Any] = {
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Code": {"ZipFile": _zip()},
    }
    lam.create_function(FunctionName="healthy-fn", Role=roles["healthy-role"], **common)
    # an S3 bucket invokes thumbs-fn, but the permission names another bucket
    roles["thumbs-role"] = iam.create_role(
        RoleName="thumbs-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="thumbs-role", PolicyArn=BASIC)
    thumbs = lam.create_function(FunctionName="thumbs-fn", Role=roles["thumbs-role"], **common)
    s3 = s.client("s3", endpoint_url=endpoint.endpoint_url)
    s3.create_bucket(Bucket="uploads-new")
    lam.add_permission(
        FunctionName="thumbs-fn",
        StatementId="s3-old",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads-old",
        SourceAccount=DEFAULT_ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket="uploads-new",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": thumbs["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    # an SQS mapping whose role cannot receive
    roles["worker-role"] = iam.create_role(
        RoleName="worker-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="worker-role", PolicyArn=BASIC)
    lam.create_function(FunctionName="worker-fn", Role=roles["worker-role"], **common)
    sqs = s.client("sqs", endpoint_url=endpoint.endpoint_url)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    roles["jobs-queue"] = queue
    lam.create_event_source_mapping(EventSourceArn=queue, FunctionName="worker-fn")
    lam.create_function(
        FunctionName="vpc-fn",
        Role=roles["vpc-role"],
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [sg]},
        **common,
    )
    return roles


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[MotoEndpoint, dict[str, str]]]:
    with moto_server() as endpoint:
        yield endpoint, _seed(endpoint)


def _check(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("LAMBDA_WHY_CONFIG", None)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_healthy_function_has_no_failure(world: tuple[MotoEndpoint, dict[str, str]]) -> None:
    endpoint, _ = world
    done = _check(endpoint.client_env(), "healthy-fn", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["summary"]["fail"] == 0
    assert doc["function"].endswith(":function:healthy-fn")
    assert {f["check"] for f in doc["findings"] if f["status"] == "pass"} >= {
        "execution-role-trust",
        "log-delivery",
    }


def test_vpc_function_without_eni_permissions(world: tuple[MotoEndpoint, dict[str, str]]) -> None:
    endpoint, roles = world
    done = _check(endpoint.client_env(), "vpc-fn", "--json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    fails = [f for f in doc["findings"] if f["status"] == "fail"]
    assert [f["check"] for f in fails] == ["vpc-eni"]
    vpc = fails[0]
    assert vpc["principal"] == roles["vpc-role"]
    assert {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
    } <= set(vpc["actions"])
    assert vpc["denied_by"] == ["identity"]
    assert any("AWSLambdaVPCAccessExecutionRole" in c for c in vpc["fix"]["commands"])


def test_save_and_replay_gives_the_same_findings(
    world: tuple[MotoEndpoint, dict[str, str]], tmp_path: Path
) -> None:
    endpoint, _ = world
    saved = tmp_path / "vpc.json"
    live = _check(endpoint.client_env(), "vpc-fn", "--json", "--save-snapshot", str(saved))
    assert live.returncode == 1, live.stderr
    offline = _check({}, "--snapshot", str(saved), "--json")
    assert offline.returncode == 1
    assert json.loads(offline.stdout)["findings"] == json.loads(live.stdout)["findings"]


def test_unknown_function_is_bad_input(world: tuple[MotoEndpoint, dict[str, str]]) -> None:
    endpoint, _ = world
    done = _check(endpoint.client_env(), "no-such-function", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_aws_exits_3() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    done = _check(env, "orders", "--json")
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1


def test_s3_permission_for_another_bucket(world: tuple[MotoEndpoint, dict[str, str]]) -> None:
    endpoint, _ = world
    done = _check(endpoint.client_env(), "thumbs-fn", "--json")
    assert done.returncode == 1, done.stderr
    fails = [f for f in json.loads(done.stdout)["findings"] if f["status"] == "fail"]
    assert len(fails) == 1
    f = fails[0]
    assert f["check"] == "invoke-permission"
    assert f["principal"] == "s3.amazonaws.com"
    assert f["actions"] == ["lambda:InvokeFunction"]
    assert f["source"] == "arn:aws:s3:::uploads-new"
    assert "arn:aws:s3:::uploads-old" in f["detail"]
    assert "--source-arn arn:aws:s3:::uploads-new" in f["fix"]["commands"][0]


def test_sqs_mapping_without_receive(world: tuple[MotoEndpoint, dict[str, str]]) -> None:
    endpoint, roles = world
    done = _check(endpoint.client_env(), "worker-fn", "--json")
    assert done.returncode == 1, done.stderr
    fails = [f for f in json.loads(done.stdout)["findings"] if f["status"] == "fail"]
    assert [f["check"] for f in fails] == ["event-source"]
    assert fails[0]["principal"] == roles["worker-role"]
    assert fails[0]["source"] == roles["jobs-queue"]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= set(
        fails[0]["actions"]
    )
