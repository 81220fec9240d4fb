"""moto fixtures for the collectors: in-process `mock_aws`, and a seeded function."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.aws.access import AwsAccess
from bot.config import FileConfig, Settings

ACCOUNT = "123456789012"
REGION = "us-east-1"
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


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    return


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


def make_access(**kwargs: Any) -> AwsAccess:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    config = kwargs.pop("config", FileConfig())
    return AwsAccess(settings, config, base_session=boto3.Session(region_name=REGION), **kwargs)


@dataclass
class Seeded:
    function_arn: str
    role_arn: str
    queue_arn: str
    queue_url: str
    policy_arns: list[str]


def seed_function(
    session: boto3.Session | None = None,
    *,
    name: str = "orders",
    account: str = ACCOUNT,
    env: dict[str, str] | None = None,
) -> Seeded:
    """A function with a role (two managed + one inline policy), a resource policy
    allowing S3, and one SQS mapping."""
    session = session or boto3.Session(region_name=REGION)
    iam = session.client("iam")
    lam = session.client("lambda", region_name=REGION)
    sqs = session.client("sqs", region_name=REGION)
    role = iam.create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(TRUST), Path="/service/"
    )["Role"]
    arns = []
    for pname, action in (("logs", "logs:*"), ("queue", "sqs:*")):
        arn = iam.create_policy(
            PolicyName=f"{name}-{pname}",
            PolicyDocument=policy({"Effect": "Allow", "Action": action, "Resource": "*"}),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=f"{name}-role", PolicyArn=arn)
        arns.append(arn)
    iam.put_role_policy(
        RoleName=f"{name}-role",
        PolicyName="inline-ddb",
        PolicyDocument=policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
    )
    fn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="index.handler",
        Code={"ZipFile": zip_bytes()},
        Environment={"Variables": env or {"DB_PASSWORD": "hunter2", "STAGE": "prod"}},
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{name}-uploads",
        SourceAccount=account,
    )
    queue_url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": role["Arn"]},
                    "Action": "sqs:ReceiveMessage",
                    "Resource": queue_arn,
                }
            )
        },
    )
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=fn["FunctionArn"])
    return Seeded(fn["FunctionArn"], role["Arn"], queue_arn, queue_url, arns)
