"""Seeding helpers: boto3 clients per moto account, roles, functions, logs, VPCs, APIs.

Everything here WRITES to moto (demo and test data); the collectors stay read-only.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bot.demo.scenarios.model import LAMBDA_TRUST, READ_ONLY_ROLE, REGION


@dataclass
class Account:
    """boto3 clients for one moto account."""

    account: str
    session: boto3.session.Session
    endpoint_url: str
    region: str = REGION
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, region_name=self.region
            )
        return self._clients[service]


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "lambda_function.py",
            "def lambda_handler(event, context):\n    return {'statusCode': 200}\n",
        )
    return buffer.getvalue()


ZIP = function_zip()


def make_role(
    acct: Account,
    name: str,
    *,
    trust: dict[str, Any] | None = None,
    managed: Sequence[str] = (),
    inline: dict[str, dict[str, Any]] | None = None,
    boundary: str | None = None,
) -> str:
    iam = acct.client("iam")
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": json.dumps(trust or LAMBDA_TRUST),
        "Path": "/service-role/" if name.endswith("-role") else "/",
    }
    if boundary:
        kwargs["PermissionsBoundary"] = boundary
    arn: str = iam.create_role(**kwargs)["Role"]["Arn"]
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
    return arn


def managed_policy(acct: Account, name: str, document: dict[str, Any]) -> str:
    arn: str = acct.client("iam").create_policy(
        PolicyName=name, PolicyDocument=json.dumps(document)
    )["Policy"]["Arn"]
    return arn


def make_function(acct: Account, name: str, role: str, **extra: Any) -> str:
    arn: str = acct.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": ZIP},
        Timeout=30,
        MemorySize=256,
        **extra,
    )["FunctionArn"]
    return arn


def write_logs(acct: Account, function: str, lines: Sequence[tuple[float, str]]) -> None:
    """Write log lines to the function's log group; `lines` are (seconds ago, message)."""
    logs = acct.client("logs")
    group = f"/aws/lambda/{function}"
    now = datetime.now(UTC)
    stream = f"{now:%Y/%m/%d}/[$LATEST]4f1c2b9e0d7a4e55a3c18f6b2d90e7c1"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [
        {"timestamp": int((now - timedelta(seconds=ago)).timestamp() * 1000), "message": text}
        for ago, text in sorted(lines, key=lambda item: -item[0])
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def invocation(
    request_id: str, ago: float, *body: str, duration: float = 12.4
) -> list[tuple[float, str]]:
    """START / body / END / REPORT lines of one invocation, as Lambda writes them
    (`ago` seconds before now, each line a few milliseconds after the previous one)."""
    lines = [(ago, f"START RequestId: {request_id} Version: $LATEST")]
    lines += [(ago - 0.003 * (i + 1), text) for i, text in enumerate(body)]
    end = ago - 0.003 * (len(body) + 1) - duration / 1000
    lines += [
        (end, f"END RequestId: {request_id}"),
        (
            end - 0.001,
            f"REPORT RequestId: {request_id}\tDuration: {duration} ms\tBilled Duration: "
            f"{int(duration) + 1} ms\tMemory Size: 256 MB\tMax Memory Used: 71 MB",
        ),
    ]
    return lines


def basic_logs_policy(acct: Account, function: str) -> dict[str, Any]:
    group = f"arn:aws:logs:{acct.region}:{acct.account}:log-group:/aws/lambda/{function}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group}:*",
            }
        ],
    }


def make_vpc(acct: Account, cidr: str = "10.20.0.0/16") -> tuple[str, list[str], list[str]]:
    """A VPC with two private subnets and a security group."""
    ec2 = acct.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    prefix = cidr.rsplit(".", 2)[0]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.{n}.0/24", AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for n, az in ((1, f"{acct.region}a"), (2, f"{acct.region}b"))
    ]
    group = ec2.create_security_group(
        GroupName=f"lambda-{vpc[-6:]}", Description="Lambda functions", VpcId=vpc
    )["GroupId"]
    return vpc, subnets, [group]


ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
]


def make_rest_api(acct: Account, name: str, function_arn: str, path: str) -> tuple[str, str]:
    """A REST API with `GET /<path>` proxied to the function; returns (api id, execute-api ARN)."""
    apigw = acct.client("apigateway")
    api = apigw.create_rest_api(name=name)["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    resource = apigw.create_resource(restApiId=api, parentId=root, pathPart=path)["id"]
    apigw.put_method(restApiId=api, resourceId=resource, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{acct.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations",
    )
    apigw.create_deployment(restApiId=api, stageName="prod")
    return api, f"arn:aws:execute-api:{acct.region}:{acct.account}:{api}/*/GET/{path}"


def read_only_role(acct: Account, trusted_account: str) -> None:
    """The `LambdaWhyReadOnly` role lambda-why assumes in this account (docs/deploy.md)."""
    make_role(
        acct,
        READ_ONLY_ROLE,
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{trusted_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        inline={
            "read-only": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "lambda:Get*",
                            "lambda:List*",
                            "iam:Get*",
                            "iam:List*",
                            "logs:FilterLogEvents",
                            "cloudtrail:LookupEvents",
                        ],
                        "Resource": "*",
                    }
                ],
            }
        },
    )
