"""Realistic broken and healthy Lambda setups, seeded in a moto server.

Each `Scenario` declares the root cause a correct diagnosis must find (check id, status,
principal, actions, source), so the end-to-end tests and the demo can assert on it. The
setups follow the AWS Lambda troubleshooting guide
(https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-execution.html) and the
permission pages of each feature (linked per scenario).

Seeding uses boto3 WRITES: this is demo and test data, never the read-only collectors.
The second account is reached the way moto supports it: `sts:AssumeRole` into a role ARN
of that account returns credentials moto maps to it
(https://docs.getmoto.org/en/latest/docs/multi_account.html).
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from pydantic import BaseModel, Field

from bot.demo.cloudtrail import record
from bot.report import Status

PRIMARY_ACCOUNT = "123456789012"  # moto's default account: the "own" account of the CLI
SECOND_ACCOUNT = "222222222222"  # read through LambdaWhyReadOnly
DEFAULT_ACCOUNTS = (PRIMARY_ACCOUNT, SECOND_ACCOUNT)
REGION = "us-east-1"
READ_ONLY_ROLE = "LambdaWhyReadOnly"

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"

#: check ids of `bot/checks` (CONTRACTS §2 `findings[].check`) the scenarios expect
CHECK_TRUST = "execution-role-trust"
CHECK_LOGGING = "log-delivery"
CHECK_VPC = "vpc-eni"
CHECK_MAPPING = "event-source"
CHECK_INVOKE = "invoke-permission"
CHECK_URL = "function-url"
CHECK_KMS_ENV = "env-kms"
CHECK_DESTINATIONS = "destinations"
CHECK_XRAY = "xray"
CHECK_UNKNOWN_ACTIONS = "unknown-actions"

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class Expected(BaseModel):
    """One finding a correct diagnosis must contain."""

    check: str
    status: Status = Status.FAIL
    principal: str | None = None
    #: the finding's actions must include all of these
    actions: list[str] = Field(default_factory=list)
    #: the trigger ARN; None: not asserted
    source: str | None = None
    #: the finding's denied_by must include all of these; None: not asserted
    denied_by: list[str] | None = None


class Scenario(BaseModel):
    """One seeded function and what a diagnosis of it must say."""

    key: str
    title: str
    account: str
    region: str = REGION
    function_name: str
    healthy: bool
    #: for a broken scenario its root causes; for a healthy one, passes that must be there
    expected: list[Expected] = Field(default_factory=list)
    #: the trigger is only discoverable with `--scan-triggers` (e.g. an S3 bucket the
    #: resource policy does not name)
    scan_triggers: bool = False
    #: a function in another account, read through its read-only role
    cross_account: bool = False
    #: the AWS doc page the setup follows
    doc: str = ""
    #: CloudTrail records (as a trail stores them) of what led here, for event history
    cloudtrail: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def role_arn(self) -> str:
        return role_arn(self.account, f"service-role/{self.function_name}-role")


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _person(account: str, name: str) -> str:
    """A human's session through the deployer role."""
    return f"arn:aws:sts::{account}:assumed-role/deployer/{name}"


# --------------------------------------------------------------------------- seeding


@dataclass
class _Account:
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


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "lambda_function.py",
            "def lambda_handler(event, context):\n    return {'statusCode': 200}\n",
        )
    return buffer.getvalue()


_ZIP = _function_zip()


def _role(
    acct: _Account,
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


def _managed_policy(acct: _Account, name: str, document: dict[str, Any]) -> str:
    arn: str = acct.client("iam").create_policy(
        PolicyName=name, PolicyDocument=json.dumps(document)
    )["Policy"]["Arn"]
    return arn


def _function(acct: _Account, name: str, role: str, **extra: Any) -> str:
    arn: str = acct.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _ZIP},
        Timeout=30,
        MemorySize=256,
        **extra,
    )["FunctionArn"]
    return arn


def _logs(acct: _Account, function: str, lines: Sequence[tuple[float, str]]) -> None:
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


def _invocation(
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


def _basic_logs_policy(acct: _Account, function: str) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- scenarios
# Each seeder creates one function (and what it needs) and returns its Scenario.


def _healthy(acct: _Account) -> Scenario:
    name = "orders-api"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role, Environment={"Variables": {"TABLE_NAME": "orders"}})
    lam = acct.client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    _logs(
        acct,
        name,
        _invocation("0b0f6e1a-3c55-4c0e-9a8e-2f5d1e7a9c01", 900)
        + _invocation("6a2d8e44-91f3-4a8b-b7c2-0c9e3f1d5a22", 300),
    )
    return Scenario(
        key="healthy",
        title="Healthy function: basic execution role, correct trust",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    )


def _healthy_full(acct: _Account) -> Scenario:
    """Every feature configured correctly: no check may fail (a false-positive hunter)."""
    name = "checkout-api"
    region, account = acct.region, acct.account
    queue_arn = f"arn:aws:sqs:{region}:{account}:checkout-orders"
    dlq_arn = f"arn:aws:sqs:{region}:{account}:checkout-dlq"
    for queue in ("checkout-orders", "checkout-dlq"):
        acct.client("sqs").create_queue(QueueName=queue)
    key_arn = acct.client("kms").create_key(
        Description="checkout secrets",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Id": "key-default-1",
                "Statement": [
                    {
                        "Sid": "Enable IAM User Permissions",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )["KeyMetadata"]["Arn"]
    extra = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DecryptEnv", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
            {
                "Sid": "FailedEvents",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": dlq_arn,
            },
        ],
    }
    role = _role(
        acct,
        f"{name}-role",
        managed=[
            VPC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
            "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        ],
        inline={"checkout-api": extra},
    )
    _, subnets, groups = _vpc(acct, "10.30.0.0/16")
    arn = _function(
        acct,
        name,
        role,
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups},
        TracingConfig={"Mode": "Active"},
        KMSKeyArn=key_arn,
        Environment={"Variables": {"PAYMENT_API_KEY": "pk_live_51HcheckoutEXAMPLE"}},
    )
    lam = acct.client("lambda")
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name, BatchSize=10)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": dlq_arn}}
    )
    # S3 bucket named in the resource policy, with matching SourceArn and SourceAccount
    acct.client("s3").create_bucket(Bucket="acme-checkout-receipts")
    lam.add_permission(
        FunctionName=name,
        StatementId="s3-receipts",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::acme-checkout-receipts",
        SourceAccount=account,
    )
    acct.client("s3").put_bucket_notification_configuration(
        Bucket="acme-checkout-receipts",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "receipts", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    # EventBridge rule with its permission
    events = acct.client("events")
    rule_arn = events.put_rule(Name="checkout-hourly", ScheduleExpression="rate(1 hour)")["RuleArn"]
    events.put_targets(Rule="checkout-hourly", Targets=[{"Id": "checkout", "Arn": arn}])
    lam.add_permission(
        FunctionName=name,
        StatementId="events-checkout-hourly",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    # public function URL with both permissions AWS requires since October 2025
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    lam.add_permission(
        FunctionName=name,
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="FunctionURLInvokeAllowPublicAccess",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    _logs(acct, name, _invocation("a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d", 60))
    passing = [
        Expected(check=CHECK_VPC, status=Status.PASS, principal=role, actions=_ENI_ACTIONS),
        Expected(
            check=CHECK_MAPPING, status=Status.PASS, principal=role, actions=["sqs:ReceiveMessage"]
        ),
        Expected(
            check=CHECK_INVOKE,
            status=Status.PASS,
            principal="s3.amazonaws.com",
            actions=["lambda:InvokeFunction"],
            source="arn:aws:s3:::acme-checkout-receipts",
        ),
        Expected(
            check=CHECK_INVOKE,
            status=Status.PASS,
            principal="events.amazonaws.com",
            actions=["lambda:InvokeFunction"],
            source=rule_arn,
        ),
        Expected(
            check=CHECK_URL, status=Status.PASS, principal="*", actions=["lambda:InvokeFunctionUrl"]
        ),
        Expected(check=CHECK_KMS_ENV, status=Status.PASS, principal=role, actions=["kms:Decrypt"]),
        Expected(
            check=CHECK_DESTINATIONS,
            status=Status.PASS,
            principal=role,
            actions=["sqs:SendMessage"],
        ),
        Expected(
            check=CHECK_XRAY, status=Status.PASS, principal=role, actions=["xray:PutTraceSegments"]
        ),
    ]
    return Scenario(
        key="healthy-full",
        expected=passing,
        title="Healthy function using VPC, SQS, S3, EventBridge, URL, KMS, DLQ and X-Ray",
        account=account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/permissions-executionrole-update.html",
    )


def _healthy_streams(acct: _Account) -> Scenario:
    """Kinesis and DynamoDB stream mappings with the AWS managed execution policies."""
    name = "activity-aggregator"
    kinesis = acct.client("kinesis")
    kinesis.create_stream(StreamName="activity", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="activity")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    table = acct.client("dynamodb").create_table(
        TableName="activity-state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    role = _role(
        acct,
        f"{name}-role",
        managed=[
            "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
        ],
    )
    _function(acct, name, role)
    lam = acct.client("lambda")
    for source in (stream_arn, table["LatestStreamArn"]):
        lam.create_event_source_mapping(
            EventSourceArn=source, FunctionName=name, StartingPosition="TRIM_HORIZON"
        )
    return Scenario(
        key="healthy-streams",
        title="Kinesis and DynamoDB stream mappings with the AWS managed policies (healthy)",
        account=acct.account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(
                check=CHECK_MAPPING,
                status=Status.PASS,
                principal=role,
                actions=["kinesis:GetRecords"],
            ),
            Expected(
                check=CHECK_MAPPING,
                status=Status.PASS,
                principal=role,
                actions=["dynamodb:GetRecords"],
            ),
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html",
    )


def _healthy_variants(acct: _Account) -> Scenario:
    """Correct setups written differently: wildcards, a permissive boundary, other targets."""
    name = "ledger-events"
    region, account = acct.region, acct.account
    sns = acct.client("sns")
    failures = sns.create_topic(Name="ledger-failures")["TopicArn"]
    bus_arn = acct.client("events").create_event_bus(Name="ledger")["EventBusArn"]
    boundary = _managed_policy(
        acct,
        "workload-boundary",
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Sid": "Failures", "Effect": "Allow", "Action": "sns:Publish", "Resource": failures},
            {
                "Sid": "Success",
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": bus_arn,
            },
        ],
    }
    role = _role(acct, f"{name}-role", inline={"ledger-events": policy}, boundary=boundary)
    arn = _function(acct, name, role)
    lam = acct.client("lambda")
    lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={
            "OnFailure": {"Destination": failures},
            "OnSuccess": {"Destination": bus_arn},
        },
    )
    # an IAM-authenticated URL: callers need their own permission, nothing to grant here
    lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    # a rule on a custom bus, and a wildcard bucket permission with the account pinned
    events = acct.client("events")
    rule_arn = events.put_rule(
        Name="ledger-closed", EventBusName="ledger", EventPattern=json.dumps({"source": ["ledger"]})
    )["RuleArn"]
    events.put_targets(
        Rule="ledger-closed", EventBusName="ledger", Targets=[{"Id": "ledger", "Arn": arn}]
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="events-ledger-bus",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=f"arn:aws:events:{region}:{account}:rule/ledger/*",
    )
    acct.client("s3").create_bucket(Bucket="acme-ledger-exports")
    lam.add_permission(
        FunctionName=name,
        StatementId="s3-ledger-buckets",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::acme-ledger-*",
        SourceAccount=account,
    )
    acct.client("s3").put_bucket_notification_configuration(
        Bucket="acme-ledger-exports",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "exports", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return Scenario(
        key="healthy-variants",
        title="Healthy: wildcards, a permissive boundary, SNS/EventBridge destinations, IAM URL",
        account=account,
        function_name=name,
        healthy=True,
        scan_triggers=True,
        expected=[
            Expected(
                check=CHECK_DESTINATIONS,
                status=Status.PASS,
                principal=role,
                actions=["sns:Publish"],
            ),
            Expected(
                check=CHECK_DESTINATIONS,
                status=Status.PASS,
                principal=role,
                actions=["events:PutEvents"],
            ),
            Expected(
                check=CHECK_INVOKE,
                status=Status.PASS,
                principal="events.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=rule_arn,
            ),
            Expected(
                check=CHECK_INVOKE,
                status=Status.PASS,
                principal="s3.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source="arn:aws:s3:::acme-ledger-exports",
            ),
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    )


def _sns_ok(acct: _Account) -> Scenario:
    name = "orders-notify"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    topic = acct.client("sns").create_topic(Name="orders-events")["TopicArn"]
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="sns-orders-events",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    acct.client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    _logs(acct, name, _invocation("7c9e2a10-55b1-4f0a-8d3e-a1b2c3d4e5f6", 600))
    return Scenario(
        key="sns-ok",
        title="SNS subscription with a matching invoke permission (healthy)",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html",
    )


def _trust_wrong(acct: _Account) -> Scenario:
    name = "billing-sync"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    # Someone later "fixed" the trust policy for an EC2 instance profile.
    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    acct.client("iam").update_assume_role_policy(
        RoleName=f"{name}-role", PolicyDocument=json.dumps(ec2_trust)
    )
    role_name = f"{name}-role"
    trail = [
        record(
            "UpdateAssumeRolePolicy",
            "iam.amazonaws.com",
            ago=timedelta(minutes=40),
            account=acct.account,
            actor=_person(acct.account, "alice"),
            params={"roleName": role_name, "policyDocument": json.dumps(ec2_trust)},
        )
    ]
    return Scenario(
        key="trust-wrong",
        cloudtrail=trail,
        title="Execution role does not trust lambda.amazonaws.com",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_TRUST,
                principal="lambda.amazonaws.com",
                actions=["sts:AssumeRole"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    )


def _vpc(acct: _Account, cidr: str = "10.20.0.0/16") -> tuple[str, list[str], list[str]]:
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


_ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
]


def _vpc_no_eni(acct: _Account) -> Scenario:
    name = "inventory-vpc"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _, subnets, groups = _vpc(acct)
    _function(acct, name, role, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})
    return Scenario(
        key="vpc-no-eni",
        title="VPC function whose role cannot create network interfaces",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_VPC,
                principal=role,
                actions=_ENI_ACTIONS,
                denied_by=["identity"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    )


def _vpc_boundary(acct: _Account) -> Scenario:
    name = "payments-vpc"
    boundary = _managed_policy(
        acct,
        "payments-boundary",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OnlyLogsAndData",
                    "Effect": "Allow",
                    "Action": ["logs:*", "dynamodb:GetItem", "dynamodb:PutItem"],
                    "Resource": "*",
                }
            ],
        },
    )
    role = _role(acct, f"{name}-role", managed=[VPC_EXECUTION], boundary=boundary)
    _, subnets, groups = _vpc(acct)
    _function(acct, name, role, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})
    trail = [
        record(
            "PutRolePermissionsBoundary",
            "iam.amazonaws.com",
            ago=timedelta(hours=3),
            account=acct.account,
            actor=_person(acct.account, "carol"),
            params={"roleName": f"{name}-role", "permissionsBoundary": boundary},
        ),
        record(
            "CreateNetworkInterface",
            "ec2.amazonaws.com",
            ago=timedelta(hours=2, minutes=55),
            account=acct.account,
            actor=f"arn:aws:sts::{acct.account}:assumed-role/{name}-role/awslambda_512_20261128",
            role_arn=role,
            params={"subnetId": subnets[0], "groupSet": {"items": [{"groupId": groups[0]}]}},
            error=(
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            ),
        ),
    ]
    return Scenario(
        key="vpc-boundary",
        cloudtrail=trail,
        title="VPC function: the permissions boundary, not the role policy, blocks ENIs",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_VPC,
                principal=role,
                actions=["ec2:CreateNetworkInterface"],
                denied_by=["boundary"],
            )
        ],
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
    )


def _sqs_no_receive(acct: _Account) -> Scenario:
    name = "orders-worker"
    queue_url = acct.client("sqs").create_queue(QueueName="orders-queue")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:orders-queue"
    policy = _basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "Queue",
            "Effect": "Allow",
            # sqs:ReceiveMessage went missing in a "least privilege" refactor
            "Action": [
                "sqs:GetQueueAttributes",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": queue_arn,
        }
    )
    role = _role(acct, f"{name}-role", inline={"orders-worker-sqs": policy})
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    del queue_url
    trail = [
        record(
            "PutRolePolicy",
            "iam.amazonaws.com",
            ago=timedelta(minutes=50),
            account=acct.account,
            actor=_person(acct.account, "bob"),
            params={"roleName": f"{name}-role", "policyName": "orders-worker-sqs"},
        )
    ]
    return Scenario(
        key="sqs-no-receive",
        cloudtrail=trail,
        title="SQS event source mapping whose role lacks sqs:ReceiveMessage",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_MAPPING, principal=role, actions=["sqs:ReceiveMessage"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions",
    )


def _kinesis_no_getrecords(acct: _Account) -> Scenario:
    name = "clickstream-consumer"
    kinesis = acct.client("kinesis")
    kinesis.create_stream(StreamName="clickstream", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="clickstream")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    policy = _basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "Stream",
            "Effect": "Allow",
            "Action": [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            "Resource": stream_arn,
        }
    )
    role = _role(acct, f"{name}-role", inline={"clickstream-read": policy})
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="LATEST", BatchSize=100
    )
    return Scenario(
        key="kinesis-no-getrecords",
        title="Kinesis mapping whose role lacks kinesis:GetRecords",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_MAPPING, principal=role, actions=["kinesis:GetRecords"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html",
    )


def _dynamodb_no_getrecords(acct: _Account) -> Scenario:
    name = "orders-stream-indexer"
    table = acct.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    stream_arn = table["LatestStreamArn"]
    policy = _basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "Stream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": f"{table['TableArn']}/stream/*",
        }
    )
    role = _role(acct, f"{name}-role", inline={"orders-stream-read": policy})
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="LATEST", BatchSize=100
    )
    return Scenario(
        key="dynamodb-no-getrecords",
        title="DynamoDB stream mapping whose role lacks dynamodb:GetRecords",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_MAPPING, principal=role, actions=["dynamodb:GetRecords"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html",
    )


def _s3_wrong_source(acct: _Account) -> Scenario:
    name = "thumbnailer"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    s3 = acct.client("s3")
    for bucket in ("acme-uploads-prod", "acme-uploads-staging"):
        s3.create_bucket(Bucket=bucket)
    # The permission was written for the staging bucket; production was never added.
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="s3-acme-uploads-staging",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::acme-uploads-staging",
        SourceAccount=acct.account,
    )
    s3.put_bucket_notification_configuration(
        Bucket="acme-uploads-prod",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "thumbnails",
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
                }
            ]
        },
    )
    return Scenario(
        key="s3-wrong-source",
        title="S3 notification: the resource policy allows a different bucket",
        account=acct.account,
        function_name=name,
        healthy=False,
        scan_triggers=True,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="s3.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source="arn:aws:s3:::acme-uploads-prod",
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html",
    )


def _events_no_permission(acct: _Account) -> Scenario:
    name = "nightly-report"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    events = acct.client("events")
    rule_arn = events.put_rule(
        Name="nightly-report-schedule", ScheduleExpression="cron(0 2 * * ? *)", State="ENABLED"
    )["RuleArn"]
    events.put_targets(Rule="nightly-report-schedule", Targets=[{"Id": "report", "Arn": arn}])
    trail = [
        record(
            "RemovePermission20150331v2",
            "lambda.amazonaws.com",
            ago=timedelta(hours=2),
            account=acct.account,
            actor=_person(acct.account, "bob"),
            params={"functionName": name, "statementId": "nightly-report-schedule"},
            resources=[("AWS::Lambda::Function", arn)],
        )
    ]
    return Scenario(
        key="events-no-permission",
        cloudtrail=trail,
        title="EventBridge rule targets the function without an invoke permission",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="events.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=rule_arn,
            )
        ],
        doc="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html",
    )


def _url_not_public(acct: _Account) -> Scenario:
    name = "webhook-receiver"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    lam = acct.client("lambda")
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    # Only the plain invoke permission exists; the public InvokeFunctionUrl one does not.
    lam.add_permission(
        FunctionName=name,
        StatementId="invoke-from-account",
        Action="lambda:InvokeFunction",
        Principal=acct.account,
    )
    return Scenario(
        key="url-not-public",
        title="Function URL with AuthType NONE but no public lambda:InvokeFunctionUrl",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_URL, principal="*", actions=["lambda:InvokeFunctionUrl"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
    )


def _kms_env(acct: _Account) -> Scenario:
    name = "payroll-export"
    admin = _role(
        acct,
        "KeyAdministrator",
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{acct.account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
    )
    key_policy = {
        "Version": "2012-10-17",
        "Id": "payroll-key",
        "Statement": [
            {
                "Sid": "KeyAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": admin},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key_arn = acct.client("kms").create_key(
        Description="payroll secrets", Policy=json.dumps(key_policy)
    )["KeyMetadata"]["Arn"]
    policy = _basic_logs_policy(acct, name)
    policy["Statement"].append(
        {"Sid": "DecryptEnv", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}
    )
    role = _role(acct, f"{name}-role", inline={"payroll-export": policy})
    arn = _function(
        acct,
        name,
        role,
        KMSKeyArn=key_arn,
        Environment={
            "Variables": {
                "DB_PASSWORD": "hunter2-prod-Zq8",
                "SLACK_TOKEN": "xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOpQrStUvWx",
                "REPORT_BUCKET": "acme-payroll-reports",
            }
        },
    )
    _logs(
        acct,
        name,
        _invocation(
            "c3a1f2e4-8b7d-4e6f-9a0b-1c2d3e4f5a6b",
            1800,
            "[INFO] connecting to postgres://payroll:hunter2-prod-Zq8@db.internal:5432/payroll",
            "[ERROR] KMSAccessDeniedException: Lambda was unable to decrypt the environment "
            "variables because KMS access was denied. Please check the function's KMS key "
            "settings. KMS Exception: AccessDeniedException KMS Message: User: "
            f"arn:aws:sts::{acct.account}:assumed-role/{name}-role/{name} is not authorized "
            f"to perform: kms:Decrypt on resource: {key_arn} because no resource-based "
            "policy allows the kms:Decrypt action",
        )
        + _invocation(
            "d4b2a3f5-9c8e-4f70-8b1c-2d3e4f5a6b7c",
            240,
            "[ERROR] KMSAccessDeniedException: Lambda was unable to decrypt the environment "
            "variables because KMS access was denied.",
        ),
    )
    session = f"arn:aws:sts::{acct.account}:assumed-role/{name}-role/{name}"
    denied = (
        "AccessDenied",
        f"User: {session} is not authorized to perform: kms:Decrypt on resource: {key_arn} "
        "because no resource-based policy allows the kms:Decrypt action",
    )
    trail = [
        record(
            "PutKeyPolicy",
            "kms.amazonaws.com",
            ago=timedelta(minutes=45),
            account=acct.account,
            actor=_person(acct.account, "alice"),
            params={"keyId": key_arn, "policyName": "default"},
            resources=[("AWS::KMS::Key", key_arn)],
        ),
        *(
            record(
                "Decrypt",
                "kms.amazonaws.com",
                ago=timedelta(seconds=ago),
                account=acct.account,
                actor=session,
                role_arn=role,
                params={"encryptionContext": {"aws:lambda:FunctionArn": arn}},
                resources=[("AWS::KMS::Key", key_arn)],
                error=denied,
            )
            for ago in (1800, 240)
        ),
    ]
    return Scenario(
        key="kms-env",
        cloudtrail=trail,
        title="Customer KMS key for environment variables does not allow the role",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_KMS_ENV, principal=role, actions=["kms:Decrypt"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
    )


def _dlq_no_send(acct: _Account) -> Scenario:
    name = "invoice-mailer"
    acct.client("sqs").create_queue(QueueName="invoice-mailer-dlq")
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:invoice-mailer-dlq"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    lam = acct.client("lambda")
    _function(acct, name, role, DeadLetterConfig={"TargetArn": queue_arn})
    # moto does not keep DeadLetterConfig; the on-failure destination carries the same gap.
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    return Scenario(
        key="dlq-no-send",
        title="Failed async invocations go to SQS but the role lacks sqs:SendMessage",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_DESTINATIONS, principal=role, actions=["sqs:SendMessage"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    )


def _xray_no_permission(acct: _Account) -> Scenario:
    name = "search-indexer"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role, TracingConfig={"Mode": "Active"})
    return Scenario(
        key="xray-no-permission",
        title="Active tracing without X-Ray permissions",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_XRAY,
                principal=role,
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    )


def _typo_action(acct: _Account) -> Scenario:
    name = "fanout-dispatcher"
    target = f"arn:aws:lambda:{acct.region}:{acct.account}:function:orders-api"
    policy = _basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "InvokeOrders",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunctions",
            "Resource": target,
        }
    )
    role = _role(acct, f"{name}-role", inline={"fanout-invoke": policy})
    _function(acct, name, role)
    _logs(
        acct,
        name,
        _invocation(
            "e5c3b4a6-0d9f-4081-9c2d-3e4f5a6b7c8d",
            420,
            "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the "
            f"Invoke operation: User: arn:aws:sts::{acct.account}:assumed-role/{name}-role/{name} "
            f"is not authorized to perform: lambda:InvokeFunction on resource: {target} "
            "because no identity-based policy allows the lambda:InvokeFunction action",
        ),
    )
    return Scenario(
        key="typo-action",
        title="Role policy names lambda:InvokeFunctions (a typo), so nothing is allowed",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_UNKNOWN_ACTIONS,
                status=Status.WARN,
                principal=role,
                actions=["lambda:InvokeFunctions"],
            )
        ],
        doc="https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html",
    )


def _trust_condition(acct: _Account) -> Scenario:
    name = "report-builder"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    # a confused-deputy guard copied from another account's template: Lambda assumes the
    # role with aws:SourceAccount = the function's account, which this condition refuses
    guarded = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
            }
        ],
    }
    acct.client("iam").update_assume_role_policy(
        RoleName=f"{name}-role", PolicyDocument=json.dumps(guarded)
    )
    return Scenario(
        key="trust-condition",
        title="Trust policy's aws:SourceAccount condition names another account",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_TRUST, principal="lambda.amazonaws.com", actions=["sts:AssumeRole"]
            )
        ],
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
    )


def _sqs_explicit_deny(acct: _Account) -> Scenario:
    name = "refund-worker"
    acct.client("sqs").create_queue(QueueName="refunds")
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:refunds"
    guardrail = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoProductionQueues",
                "Effect": "Deny",
                "Action": "sqs:*",
                "Resource": f"arn:aws:sqs:{acct.region}:{acct.account}:refund*",
            }
        ],
    }
    role = _role(
        acct,
        f"{name}-role",
        managed=[
            BASIC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
        inline={"guardrail": guardrail},
    )
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    return Scenario(
        key="sqs-explicit-deny",
        title="SQS mapping: a Deny statement in the role overrides the managed policy's Allow",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_MAPPING,
                principal=role,
                actions=["sqs:ReceiveMessage"],
                denied_by=["identity"],
            )
        ],
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
    )


def _sqs_kms(acct: _Account) -> Scenario:
    name = "invoice-ingest"
    key_arn = acct.client("kms").create_key(
        Description="invoice queue",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Enable IAM User Permissions",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{acct.account}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )["KeyMetadata"]["Arn"]
    acct.client("sqs").create_queue(QueueName="invoices", Attributes={"KmsMasterKeyId": key_arn})
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:invoices"
    role = _role(
        acct,
        f"{name}-role",
        managed=[
            BASIC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
    )
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    return Scenario(
        key="sqs-kms",
        title="SQS queue encrypted with a customer key the role may not decrypt",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_MAPPING, principal=role, actions=["kms:Decrypt"])],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions",
    )


def _sns_no_permission(acct: _Account) -> Scenario:
    name = "billing-alerts"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    topic = acct.client("sns").create_topic(Name="billing-alarms")["TopicArn"]
    acct.client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    return Scenario(
        key="sns-no-permission",
        title="SNS subscription without an invoke permission for the topic",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="sns.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=topic,
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html",
    )


def _s3_wrong_account(acct: _Account) -> Scenario:
    name = "invoice-parser"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    s3 = acct.client("s3")
    s3.create_bucket(Bucket="acme-invoices-inbox")
    # the bucket is right, the account is the old one the stack was copied from
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="s3-invoices-inbox",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::acme-invoices-inbox",
        SourceAccount="999999999999",
    )
    s3.put_bucket_notification_configuration(
        Bucket="acme-invoices-inbox",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "parse", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Put"]}
            ]
        },
    )
    return Scenario(
        key="s3-wrong-account",
        title="S3 permission with the right bucket but another SourceAccount",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="s3.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source="arn:aws:s3:::acme-invoices-inbox",
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html",
    )


def _public_invoke(acct: _Account) -> Scenario:
    name = "legacy-hook"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="allow-everyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    return Scenario(
        key="public-invoke",
        title="Resource policy lets anyone invoke the function (Principal * without conditions)",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                status=Status.WARN,
                principal="*",
                actions=["lambda:InvokeFunction"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
    )


def _rest_api(acct: _Account, name: str, function_arn: str, path: str) -> tuple[str, str]:
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


def _apigw_no_permission(acct: _Account) -> Scenario:
    name = "orders-read-api"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    _rest_api(acct, "orders-public", arn, "orders")
    return Scenario(
        key="apigw-no-permission",
        title="API Gateway REST API integration without an invoke permission",
        account=acct.account,
        function_name=name,
        healthy=False,
        scan_triggers=True,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="apigateway.amazonaws.com",
                actions=["lambda:InvokeFunction"],
            )
        ],
        doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html",
    )


def _apigw_ok(acct: _Account) -> Scenario:
    name = "orders-search-api"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = _function(acct, name, role)
    api, source = _rest_api(acct, "orders-search", arn, "search")
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="apigateway-orders-search",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{acct.region}:{acct.account}:{api}/*",
    )
    return Scenario(
        key="apigw-ok",
        title="API Gateway REST API with a permission for the whole API (healthy)",
        account=acct.account,
        function_name=name,
        healthy=True,
        scan_triggers=True,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                status=Status.PASS,
                principal="apigateway.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=source,
            )
        ],
        doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html",
    )


def _role_deleted(acct: _Account) -> Scenario:
    name = "cleanup-job"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    # someone "cleaned up unused roles"
    iam = acct.client("iam")
    iam.detach_role_policy(RoleName=f"{name}-role", PolicyArn=BASIC_EXECUTION)
    iam.delete_role(RoleName=f"{name}-role")
    return Scenario(
        key="role-deleted",
        title="The execution role was deleted",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_TRUST, principal="lambda.amazonaws.com", actions=["sts:AssumeRole"]
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html",
    )


def _sqs_queue_policy_deny(acct: _Account) -> Scenario:
    name = "audit-consumer"
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:audit-events"
    role = _role(
        acct,
        f"{name}-role",
        managed=[
            BASIC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
    )
    # the queue only talks to the producer role: the consumer was forgotten
    producer = f"arn:aws:iam::{acct.account}:role/audit-producer"
    queue_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheProducer",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": producer}},
            }
        ],
    }
    acct.client("sqs").create_queue(
        QueueName="audit-events", Attributes={"Policy": json.dumps(queue_policy)}
    )
    _function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    return Scenario(
        key="sqs-queue-policy-deny",
        title="SQS queue policy denies everyone but the producer (the consumer role included)",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_MAPPING,
                principal=role,
                actions=["sqs:ReceiveMessage"],
                denied_by=["resource"],
            )
        ],
        doc="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-using-identity-based-policies.html",
    )


def _destination_lambda(acct: _Account) -> Scenario:
    name = "order-placed"
    target = f"arn:aws:lambda:{acct.region}:{acct.account}:function:order-fulfil"
    _function(acct, "order-fulfil", _role(acct, "order-fulfil-role", managed=[BASIC_EXECUTION]))
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    acct.client("lambda").put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": target}}
    )
    return Scenario(
        key="destination-lambda",
        title="On-success destination is another function the role may not invoke",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(check=CHECK_DESTINATIONS, principal=role, actions=["lambda:InvokeFunction"])
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    )


def _read_only_role(acct: _Account, trusted_account: str) -> None:
    """The `LambdaWhyReadOnly` role lambda-why assumes in this account (docs/deploy.md)."""
    _role(
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


def _xacct_logging(acct: _Account) -> Scenario:
    name = "ledger-reconciler"
    # Created from a template that forgot the logging permissions entirely.
    role = _role(
        acct,
        f"{name}-role",
        inline={
            "ledger-read": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                        "Resource": f"arn:aws:dynamodb:{acct.region}:{acct.account}:table/ledger",
                    }
                ],
            }
        },
    )
    _function(acct, name, role)
    return Scenario(
        key="xacct-logging",
        title="Function in a second account (via LambdaWhyReadOnly) that cannot write logs",
        account=acct.account,
        function_name=name,
        healthy=False,
        cross_account=True,
        expected=[
            Expected(
                check=CHECK_LOGGING,
                principal=role,
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html",
    )


def _xacct_healthy(acct: _Account) -> Scenario:
    name = "ledger-api"
    role = _role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _function(acct, name, role)
    _logs(acct, name, _invocation("f6d4c5b7-1e0a-4192-8d3e-4f5a6b7c8d9e", 120))
    return Scenario(
        key="xacct-healthy",
        title="Healthy function in a second account (via LambdaWhyReadOnly)",
        account=acct.account,
        function_name=name,
        healthy=True,
        cross_account=True,
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html",
    )


Seeder = Callable[[_Account], Scenario]


def _fix_trust(acct: _Account, scenario: Scenario) -> None:
    acct.client("iam").update_assume_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(LAMBDA_TRUST)
    )


def _fix_vpc(acct: _Account, scenario: Scenario) -> None:
    acct.client("iam").attach_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1], PolicyArn=VPC_EXECUTION
    )


def _fix_xray(acct: _Account, scenario: Scenario) -> None:
    acct.client("iam").attach_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1],
        PolicyArn="arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    )


#: how to repair a scenario (the demo fixes one, then clicks Rerun)
REMEDIES: dict[str, Callable[[_Account, Scenario], None]] = {
    "trust-wrong": _fix_trust,
    "vpc-no-eni": _fix_vpc,
    "xray-no-permission": _fix_xray,
}

#: seeders of the primary (own) account, in presentation order
PRIMARY_SEEDERS: dict[str, Seeder] = {
    "healthy": _healthy,
    "healthy-full": _healthy_full,
    "healthy-streams": _healthy_streams,
    "healthy-variants": _healthy_variants,
    "sns-ok": _sns_ok,
    "trust-wrong": _trust_wrong,
    "vpc-no-eni": _vpc_no_eni,
    "vpc-boundary": _vpc_boundary,
    "sqs-no-receive": _sqs_no_receive,
    "kinesis-no-getrecords": _kinesis_no_getrecords,
    "dynamodb-no-getrecords": _dynamodb_no_getrecords,
    "s3-wrong-source": _s3_wrong_source,
    "events-no-permission": _events_no_permission,
    "url-not-public": _url_not_public,
    "kms-env": _kms_env,
    "dlq-no-send": _dlq_no_send,
    "xray-no-permission": _xray_no_permission,
    "typo-action": _typo_action,
    "trust-condition": _trust_condition,
    "sqs-explicit-deny": _sqs_explicit_deny,
    "sqs-kms": _sqs_kms,
    "sns-no-permission": _sns_no_permission,
    "s3-wrong-account": _s3_wrong_account,
    "public-invoke": _public_invoke,
    "apigw-no-permission": _apigw_no_permission,
    "apigw-ok": _apigw_ok,
    "role-deleted": _role_deleted,
    "sqs-queue-policy-deny": _sqs_queue_policy_deny,
    "destination-lambda": _destination_lambda,
}
#: seeders of every other account
OTHER_SEEDERS: dict[str, Seeder] = {
    "xacct-logging": _xacct_logging,
    "xacct-healthy": _xacct_healthy,
}
SCENARIO_KEYS = (*PRIMARY_SEEDERS, *OTHER_SEEDERS)


def _account_session(endpoint_url: str, account: str, region: str) -> boto3.session.Session:
    """Credentials for `account`: the primary one directly, others by assuming a role there."""
    base = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=region,
    )
    if account == PRIMARY_ACCOUNT:
        return base
    creds = base.client("sts", endpoint_url=endpoint_url, region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="lambda-why-demo-seed",
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def seed_sync(
    endpoint_url: str,
    *,
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    only: Collection[str] | None = None,
    region: str = REGION,
) -> list[Scenario]:
    """Seed the scenarios (all, or the keys in `only`) and return them, in order."""
    unknown = set(only or ()) - set(SCENARIO_KEYS)
    if unknown:
        raise ValueError(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    scenarios: list[Scenario] = []
    for account in accounts:
        acct = _Account(
            account, _account_session(endpoint_url, account, region), endpoint_url, region
        )
        if account == PRIMARY_ACCOUNT:
            seeders = PRIMARY_SEEDERS
        else:
            _read_only_role(acct, PRIMARY_ACCOUNT)
            seeders = OTHER_SEEDERS
        for key, seeder in seeders.items():
            if only is None or key in only:
                scenarios.append(seeder(acct))
    return scenarios


async def seed(
    endpoint_url: str,
    *,
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    only: Collection[str] | None = None,
    region: str = REGION,
) -> list[Scenario]:
    """Seed the scenarios in the moto server at `endpoint_url` (boto3 in a worker thread)."""
    return await asyncio.to_thread(
        seed_sync, endpoint_url, accounts=accounts, only=only, region=region
    )


def remedy_sync(endpoint_url: str, scenario: Scenario) -> None:
    """Repair a seeded scenario (a boto3 write), as its owner would after reading the fix."""
    fix = REMEDIES.get(scenario.key)
    if fix is None:
        raise ValueError(f"no remedy for scenario {scenario.key}")
    session = _account_session(endpoint_url, scenario.account, scenario.region)
    fix(_Account(scenario.account, session, endpoint_url, scenario.region), scenario)


async def remedy(endpoint_url: str, scenario: Scenario) -> None:
    await asyncio.to_thread(remedy_sync, endpoint_url, scenario)


def config_toml(scenarios: Sequence[Scenario]) -> str:
    """A `LAMBDA_WHY_CONFIG` file that lets the bot read every seeded account."""
    accounts = sorted({s.account for s in scenarios} | {PRIMARY_ACCOUNT})
    return "".join(f'[accounts."{account}"]\n\n' for account in accounts)
