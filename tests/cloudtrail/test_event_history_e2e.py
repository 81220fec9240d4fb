"""The hidden run's path: `lambda-why check --json` in a real process, moto for every
service through `AWS_ENDPOINT_URL`, CloudTrail event history from a separate endpoint
(`event_history.EventHistory`) reached only through `AWS_ENDPOINT_URL_CLOUDTRAIL`.

One event history holds the records of every scenario (and unrelated noise): each function
must list its own breaking change in `events` and tie it to the failing finding, and list
nothing of the others. Records are shaped as CloudTrail writes them: Lambda's versioned
event names, IAM in us-east-1, KMS with `resources`, IAMUser / AssumedRole / Root /
AWSService identities, denials with `errorCode`/`errorMessage`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.demo.moto import DEFAULT_ACCOUNT, MotoEndpoint, moto_server
from tests.cloudtrail.event_history import EventHistory

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = DEFAULT_ACCOUNT
NOW = datetime.now(UTC).replace(microsecond=0)
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
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
CONSOLE_AGENT = "AWS Internal"
CLI_AGENT = (
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6"
)
TF_AGENT = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) "
    "terraform-provider-aws/5.74.0"
)
LAMBDA_SDK = (
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.227 lang/python#3.12.7 "
    "exec-env/AWS_Lambda_python3.12"
)


# -- CloudTrail records ------------------------------------------------------------------------


def assumed(role: str, session: str, *, invoked_by: str | None = None) -> dict[str, Any]:
    role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, role).hex[:17].upper()
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, session).hex[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": (NOW - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "mfaAuthenticated": "false",
            },
        },
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def iam_user(name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:17].upper(),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:16].upper(),
        "userName": name,
    }


ROOT_USER = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAROOTSESSION00001",
    "sessionContext": {
        "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "true"}
    },
}
ALICE = assumed("AWSReservedSSO_AdministratorAccess_0123456789abcdef", "alice@example.com")
BOB = iam_user("bob")
DEPLOY = assumed("github-deploy", "GitHubActions")


def rec(
    name: str,
    source: str,
    who: dict[str, Any],
    *,
    ago: timedelta,
    region: str = "us-east-1",
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    read_only: bool = False,
    resources: list[dict[str, str]] | None = None,
    ip: str = "203.0.113.5",
    agent: str = CLI_AGENT,
) -> dict[str, Any]:
    """A management event record, field order and set as CloudTrail writes them."""
    record: dict[str, Any] = {
        "eventVersion": "1.10" if source == "iam.amazonaws.com" else "1.09",
        "userIdentity": who,
        "eventTime": (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
    }
    if error is not None:
        record["errorCode"], record["errorMessage"] = error
    record["requestParameters"] = params
    record["responseElements"] = response
    record["requestID"] = str(uuid.uuid4())
    record["eventID"] = str(uuid.uuid4())
    record["readOnly"] = read_only
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = ACCOUNT
    record["eventCategory"] = "Management"
    if not ip.endswith(".amazonaws.com"):
        service = source.removesuffix(".amazonaws.com")
        record["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{service}.{region}.amazonaws.com",
        }
    return record


def fn_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# -- moto seeding -------------------------------------------------------------------------------


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


@dataclass
class Seeder:
    endpoint: str
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        if key not in self.clients:
            session = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                aws_session_token="testing",
                region_name=region,
            )
            self.clients[key] = session.client(service, endpoint_url=self.endpoint)
        return self.clients[key]

    def role(
        self,
        name: str,
        *,
        managed: tuple[str, ...] = (BASIC,),
        inline: dict[str, dict[str, Any]] | None = None,
        trust: dict[str, Any] | None = None,
    ) -> str:
        iam = self.client("iam")
        arn: str = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or TRUST)
        )["Role"]["Arn"]
        for policy in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        for policy_name, document in (inline or {}).items():
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        return arn

    def function(self, name: str, role: str, region: str = "us-east-1", **extra: Any) -> str:
        arn: str = self.client("lambda", region).create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code_zip()},
            **extra,
        )["FunctionArn"]
        return arn

    def queue(self, name: str, region: str = "us-east-1", **attributes: str) -> tuple[str, str]:
        sqs = self.client("sqs", region)
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def vpc(self, cidr: str) -> tuple[list[str], list[str]]:
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        prefix = cidr.rsplit(".", 2)[0]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.{n}.0/24")["Subnet"]["SubnetId"]
            for n in (1, 2)
        ]
        group = ec2.create_security_group(
            GroupName=f"fn-{vpc[-6:]}", Description="lambda", VpcId=vpc
        )["GroupId"]
        return subnets, [group]


def allow(actions: list[str], resource: str = "*", effect: str = "Allow") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": actions, "Resource": resource}],
    }


SQS_READ = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
ENI = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]


@dataclass
class Case:
    key: str
    function_arn: str
    check: str
    #: the breaking record: must be `events[...]` and the finding's likely cause
    cause: dict[str, Any]
    records: list[dict[str, Any]]
    #: event names (normalised) that must be in `events`, besides the cause
    also: tuple[str, ...] = ()
    #: the finding must name this action
    action: str | None = None


def seed(s: Seeder) -> list[Case]:
    cases: list[Case] = []

    # 1. S3 trigger whose invoke permission was removed (eu-west-1; the request named the ARN)
    region = "eu-west-1"
    arn = s.function("thumbs", s.role("thumbs-role"), region)
    s3 = s.client("s3", region)
    s3.create_bucket(
        Bucket="thumbs-uploads", CreateBucketConfiguration={"LocationConstraint": region}
    )
    s.client("lambda", region).add_permission(
        FunctionName="thumbs",
        StatementId="thumbs-uploads-s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::thumbs-uploads",
        SourceAccount=ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket="thumbs-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s.client("lambda", region).remove_permission(
        FunctionName="thumbs", StatementId="thumbs-uploads-s3"
    )
    statement = {
        "Sid": "thumbs-uploads-s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": ACCOUNT},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::thumbs-uploads"},
        },
    }
    added = rec(
        "AddPermission20150331v2",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=20),
        region=region,
        params={
            "functionName": "thumbs",
            "statementId": "thumbs-uploads-s3",
            "action": "lambda:InvokeFunction",
            "principal": "s3.amazonaws.com",
            "sourceArn": "arn:aws:s3:::thumbs-uploads",
            "sourceAccount": ACCOUNT,
        },
        response={"statement": json.dumps(statement)},
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    removed = rec(
        "RemovePermission20150331v2",
        "lambda.amazonaws.com",
        ALICE,
        ago=timedelta(hours=2),
        region=region,
        params={"functionName": arn, "statementId": "thumbs-uploads-s3"},
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case(
            "s3-removed",
            arn,
            "invoke-permission",
            removed,
            [added, removed],
            also=("AddPermission",),
            action="lambda:InvokeFunction",
        )
    )

    # 2. VPC function whose VPC access policy was detached (IAM: us-east-1), then Lambda's
    # ENI creation was denied (Client.UnauthorizedOperation, awslambda_ session)
    subnets, groups = s.vpc("10.31.0.0/16")
    arn = s.function(
        "inventory",
        s.role("inventory-role", managed=(BASIC,)),
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups},
    )
    detached = rec(
        "DetachRolePolicy",
        "iam.amazonaws.com",
        BOB,
        ago=timedelta(hours=5),
        params={"roleName": "inventory-role", "policyArn": VPC_ACCESS},
        ip="198.51.100.20",
    )
    session = "awslambda_812_20261128021500123"
    eni_denied = rec(
        "CreateNetworkInterface",
        "ec2.amazonaws.com",
        assumed("inventory-role", session, invoked_by="lambda.amazonaws.com"),
        ago=timedelta(hours=4),
        params={
            "subnetId": subnets[0],
            "description": "AWS Lambda VPC ENI-inventory-4f1c2b9e",
            "groupSet": {"items": [{"groupId": groups[0]}]},
        },
        error=(
            "Client.UnauthorizedOperation",
            "You are not authorized to perform this operation. User: "
            f"arn:aws:sts::{ACCOUNT}:assumed-role/inventory-role/{session} is not authorized "
            f"to perform: ec2:CreateNetworkInterface on resource: arn:aws:ec2:us-east-1:"
            f"{ACCOUNT}:subnet/{subnets[0]} because no identity-based policy allows the "
            "ec2:CreateNetworkInterface action. Encoded authorization failure message: "
            "hZ2k8gxF0lV3example",
        ),
        ip="lambda.amazonaws.com",
        agent="lambda.amazonaws.com",
    )
    cases.append(
        Case(
            "vpc-detached",
            arn,
            "vpc-eni",
            detached,
            [detached, eni_denied],
            also=("CreateNetworkInterface",),
            action="ec2:CreateNetworkInterface",
        )
    )

    # 3. SQS mapping whose inline policy was deleted
    _, queue = s.queue("orders-in")
    role = s.role("orders-worker-role", inline={"sqs-read": allow(SQS_READ)})
    arn = s.function("orders-worker", role)
    s.client("lambda").create_event_source_mapping(EventSourceArn=queue, FunctionName=arn)
    s.client("iam").delete_role_policy(RoleName="orders-worker-role", PolicyName="sqs-read")
    deleted = rec(
        "DeleteRolePolicy",
        "iam.amazonaws.com",
        ALICE,
        ago=timedelta(hours=3),
        params={"roleName": "orders-worker-role", "policyName": "sqs-read"},
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case("inline-deleted", arn, "event-source", deleted, [deleted], action="sqs:ReceiveMessage")
    )

    # 4. the inline policy was rewritten without sqs:ReceiveMessage (PutRolePolicy)
    _, queue = s.queue("payments-in")
    narrowed = allow(["sqs:DeleteMessage", "sqs:GetQueueAttributes"], queue)
    role = s.role("payments-worker-role", inline={"queue": narrowed})
    arn = s.function("payments-worker", role)
    s.client("lambda").create_event_source_mapping(EventSourceArn=queue, FunctionName=arn)
    put = rec(
        "PutRolePolicy",
        "iam.amazonaws.com",
        DEPLOY,
        ago=timedelta(minutes=45),
        params={
            "roleName": "payments-worker-role",
            "policyName": "queue",
            "policyDocument": json.dumps(narrowed),
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case("inline-narrowed", arn, "event-source", put, [put], action="sqs:ReceiveMessage")
    )

    # 5. a customer managed policy with an explicit Deny was attached (AttachRolePolicy)
    iam = s.client("iam")
    deny_logs = iam.create_policy(
        PolicyName="deny-logs", PolicyDocument=json.dumps(allow(["logs:*"], effect="Deny"))
    )["Policy"]["Arn"]
    s.role("audit-role")
    iam.attach_role_policy(RoleName="audit-role", PolicyArn=deny_logs)
    arn = s.function("audit", role_arn("audit-role"))
    attached = rec(
        "AttachRolePolicy",
        "iam.amazonaws.com",
        ROOT_USER,
        ago=timedelta(hours=6),
        params={"roleName": "audit-role", "policyArn": deny_logs},
        ip="192.0.2.44",
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case("deny-attached", arn, "log-delivery", attached, [attached], action="logs:PutLogEvents")
    )

    # 6. a new default version of the role's managed policy dropped the ENI actions
    subnets, groups = s.vpc("10.32.0.0/16")
    base = iam.create_policy(
        PolicyName="ledger-base", PolicyDocument=json.dumps(allow([*ENI, "logs:*"]))
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=base, PolicyDocument=json.dumps(allow(["logs:*"])), SetAsDefault=True
    )
    s.role("ledger-role", managed=(base,))
    arn = s.function(
        "ledger",
        role_arn("ledger-role"),
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups},
    )
    version = rec(
        "CreatePolicyVersion",
        "iam.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=1),
        params={
            "policyArn": base,
            "policyDocument": json.dumps(allow(["logs:*"])),
            "setAsDefault": True,
        },
        response={
            "policyVersion": {
                "versionId": "v2",
                "isDefaultVersion": True,
                "createDate": "Nov 28, 2026, 2:00:00 AM",
            }
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case(
            "policy-version",
            arn,
            "vpc-eni",
            version,
            [version],
            action="ec2:CreateNetworkInterface",
        )
    )

    # 7. the default version was set back to one without SQS (SetDefaultPolicyVersion)
    _, queue = s.queue("refunds-in")
    policy = iam.create_policy(
        PolicyName="refunds-base", PolicyDocument=json.dumps(allow(["logs:*"]))
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=policy, PolicyDocument=json.dumps(allow(["logs:*", *SQS_READ])), SetAsDefault=True
    )
    iam.set_default_policy_version(PolicyArn=policy, VersionId="v1")
    s.role("refunds-role", managed=(policy,))
    arn = s.function("refunds", role_arn("refunds-role"))
    s.client("lambda").create_event_source_mapping(EventSourceArn=queue, FunctionName="refunds")
    default = rec(
        "SetDefaultPolicyVersion",
        "iam.amazonaws.com",
        BOB,
        ago=timedelta(hours=2),
        params={"policyArn": policy, "versionId": "v1"},
        ip="198.51.100.20",
    )
    cases.append(
        Case(
            "default-version", arn, "event-source", default, [default], action="sqs:ReceiveMessage"
        )
    )

    # 8. a permissions boundary without logs was set
    boundary = iam.create_policy(
        PolicyName="dev-boundary", PolicyDocument=json.dumps(allow(["dynamodb:*", "s3:*"]))
    )["Policy"]["Arn"]
    s.role("reports-role")
    iam.put_role_permissions_boundary(RoleName="reports-role", PermissionsBoundary=boundary)
    arn = s.function("reports", role_arn("reports-role"))
    bounded = rec(
        "PutRolePermissionsBoundary",
        "iam.amazonaws.com",
        ALICE,
        ago=timedelta(hours=8),
        params={"roleName": "reports-role", "permissionsBoundary": boundary},
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case("boundary", arn, "log-delivery", bounded, [bounded], action="logs:PutLogEvents")
    )

    # 9. the trust policy no longer names Lambda
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
    s.role("billing-role")
    iam.update_assume_role_policy(RoleName="billing-role", PolicyDocument=json.dumps(ec2_trust))
    arn = s.function("billing", role_arn("billing-role"))
    trust = rec(
        "UpdateAssumeRolePolicy",
        "iam.amazonaws.com",
        BOB,
        ago=timedelta(minutes=30),
        params={"roleName": "billing-role", "policyDocument": json.dumps(ec2_trust)},
        ip="198.51.100.20",
    )
    # Lambda's own sts:AssumeRole, refused since (a failed call's record lists no resources)
    lambda_denied = rec(
        "AssumeRole",
        "sts.amazonaws.com",
        {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
        ago=timedelta(minutes=20),
        params={"roleArn": role_arn("billing-role"), "roleSessionName": "billing"},
        error=("AccessDenied", "Access denied"),
        read_only=True,
        ip="lambda.amazonaws.com",
        agent="lambda.amazonaws.com",
    )
    cases.append(
        Case(
            "trust",
            arn,
            "execution-role-trust",
            trust,
            [trust, lambda_denied],
            also=("AssumeRole",),
            action="sts:AssumeRole",
        )
    )

    # 10. the execution role was changed to one that cannot write logs
    s.role("pricing-role")
    s.role("pricing-v2-role", managed=())
    arn = s.function("pricing", role_arn("pricing-role"))
    s.client("lambda").update_function_configuration(
        FunctionName="pricing", Role=role_arn("pricing-v2-role")
    )
    created = rec(
        "CreateFunction20150331",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=22),
        params={
            "functionName": "pricing",
            "runtime": "python3.12",
            "role": role_arn("pricing-role"),
            "handler": "app.handler",
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    switched = rec(
        "UpdateFunctionConfiguration20150331v2",
        "lambda.amazonaws.com",
        ALICE,
        ago=timedelta(hours=1),
        params={"functionName": "pricing", "role": role_arn("pricing-v2-role")},
        response={
            "functionName": "pricing",
            "functionArn": arn,
            "role": role_arn("pricing-v2-role"),
        },
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case(
            "role-switched",
            arn,
            "log-delivery",
            switched,
            [created, switched],
            also=("CreateFunction",),
            action="logs:PutLogEvents",
        )
    )

    # 11. the function was moved into a VPC its role cannot create ENIs for
    subnets, groups = s.vpc("10.33.0.0/16")
    arn = s.function("search", s.role("search-role"))
    s.client("lambda").update_function_configuration(
        FunctionName="search", VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups}
    )
    moved = rec(
        "UpdateFunctionConfiguration20150331v2",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=3),
        params={
            "functionName": arn,
            "vpcConfig": {"subnetIds": subnets, "securityGroupIds": groups},
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case("moved-to-vpc", arn, "vpc-eni", moved, [moved], action="ec2:CreateNetworkInterface")
    )

    # 12. an SQS mapping was created from a queue the role cannot read
    _, queue = s.queue("emails-in")
    arn = s.function("emails", s.role("emails-role"))
    mapping = s.client("lambda").create_event_source_mapping(
        EventSourceArn=queue, FunctionName="emails", BatchSize=10
    )["UUID"]
    esm = rec(
        "CreateEventSourceMapping20150331",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=2),
        params={
            "eventSourceArn": queue,
            "functionName": "emails",
            "batchSize": 10,
            "enabled": True,
        },
        response={
            "uUID": mapping,
            "batchSize": 10,
            "eventSourceArn": queue,
            "functionArn": arn,
            "state": "Creating",
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(Case("esm-created", arn, "event-source", esm, [esm], action="sqs:ReceiveMessage"))

    # 13. an on-failure destination the role cannot send to (PutFunctionEventInvokeConfig)
    _, dead = s.queue("notify-failures")
    arn = s.function("notify", s.role("notify-role"))
    s.client("lambda").put_function_event_invoke_config(
        FunctionName="notify", DestinationConfig={"OnFailure": {"Destination": dead}}
    )
    dest = rec(
        "PutFunctionEventInvokeConfig",
        "lambda.amazonaws.com",
        ALICE,
        ago=timedelta(hours=4),
        params={
            "functionName": "notify",
            "destinationConfig": {"onFailure": {"destination": dead}},
        },
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case("destination-set", arn, "destinations", dest, [dest], action="sqs:SendMessage")
    )

    # 14. the queue policy of a mapping's source now denies the role (SetQueueAttributes)
    url, queue = s.queue("audit-in")
    role = s.role("ingest-role", inline={"sqs": allow(SQS_READ)})
    arn = s.function("ingest", role)
    s.client("lambda").create_event_source_mapping(EventSourceArn=queue, FunctionName="ingest")
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyOutsideVpce",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue,
                "Condition": {"StringNotEquals": {"aws:sourceVpce": "vpce-0a1b2c3d"}},
            }
        ],
    }
    s.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny)})
    queue_policy = rec(
        "SetQueueAttributes",
        "sqs.amazonaws.com",
        BOB,
        ago=timedelta(hours=1),
        params={
            "queueUrl": url,  # as an emulator's client wrote it
            "attributes": {"Policy": json.dumps(deny)},
        },
        ip="198.51.100.20",
    )
    cases.append(
        Case(
            "queue-policy",
            arn,
            "event-source",
            queue_policy,
            [queue_policy],
            action="sqs:ReceiveMessage",
        )
    )

    # 15. the environment variables' KMS key policy no longer lets the role decrypt
    kms = s.client("kms")
    key = kms.create_key(Description="tax env")["KeyMetadata"]["Arn"]
    key_id = key.rsplit("/", 1)[-1]
    only_root = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admins",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    role = s.role("tax-role", inline={"kms": allow(["kms:Decrypt"], key)})
    arn = s.function("tax", role, KMSKeyArn=key, Environment={"Variables": {"MODE": "live"}})
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(only_root))
    key_policy = rec(
        "PutKeyPolicy",
        "kms.amazonaws.com",
        ALICE,
        ago=timedelta(hours=2),
        params={
            "keyId": key_id,
            "policyName": "default",
            "policy": json.dumps(only_root),
            "bypassPolicyLockoutSafetyCheck": False,
        },
        resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}],
        agent=CONSOLE_AGENT,
    )
    # then the code's own kms:Decrypt was refused (KMS writes AccessDeniedException)
    decrypt_denied = rec(
        "Decrypt",
        "kms.amazonaws.com",
        assumed("tax-role", "tax"),
        ago=timedelta(minutes=40),
        params={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        error=(
            "AccessDeniedException",
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/tax-role/tax is not authorized to "
            f"perform: kms:Decrypt on resource: {key} because no resource-based policy allows "
            "the kms:Decrypt action",
        ),
        read_only=True,
        resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}],
        ip="3.91.20.118",
        agent=LAMBDA_SDK,
    )
    cases.append(
        Case(
            "key-policy",
            arn,
            "env-kms",
            key_policy,
            [key_policy, decrypt_denied],
            also=("Decrypt",),
            action="kms:Decrypt",
        )
    )

    # 16. the function's code was denied dynamodb:PutItem after its table policy was deleted
    role = s.role(
        "checkout-role",
        inline={
            "table": allow(
                ["dynamodb:PutItem"], f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
            )
        },
    )
    arn = s.function("checkout", role)
    s.client("iam").delete_role_policy(RoleName="checkout-role", PolicyName="table")
    removed_table = rec(
        "DeleteRolePolicy",
        "iam.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=6),
        params={"roleName": "checkout-role", "policyName": "table"},
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
    denied = [
        rec(
            "PutItem",
            "dynamodb.amazonaws.com",
            assumed("checkout-role", "checkout"),
            ago=timedelta(hours=h),
            params={"tableName": "orders"},
            error=(
                "AccessDenied",
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/checkout-role/checkout is not "
                f"authorized to perform: dynamodb:PutItem on resource: {table} because no "
                "identity-based policy allows the dynamodb:PutItem action",
            ),
            ip="3.91.20.118",
            agent=LAMBDA_SDK,
        )
        for h in (5, 3, 1)
    ]
    # a later, unrelated deployment: listed, but not the cause
    deployed = rec(
        "UpdateFunctionCode20150331v2",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(minutes=15),
        params={"functionName": "checkout", "publish": False},
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case(
            "code-denied",
            arn,
            "cloudtrail-denials",
            removed_table,
            [removed_table, *denied, deployed],
            also=("PutItem", "UpdateFunctionCode"),
            action="dynamodb:PutItem",
        )
    )

    # 17. the execution role was deleted (policies detached first, as IAM requires)
    s.role("cleanup-role")
    arn = s.function("cleanup", role_arn("cleanup-role"))
    iam.detach_role_policy(RoleName="cleanup-role", PolicyArn=BASIC)
    iam.delete_role(RoleName="cleanup-role")
    detach_basic = rec(
        "DetachRolePolicy",
        "iam.amazonaws.com",
        BOB,
        ago=timedelta(hours=7, minutes=1),
        params={"roleName": "cleanup-role", "policyArn": BASIC},
        ip="198.51.100.20",
    )
    delete_role = rec(
        "DeleteRole",
        "iam.amazonaws.com",
        BOB,
        ago=timedelta(hours=7),
        params={"roleName": "cleanup-role"},
        ip="198.51.100.20",
    )
    cases.append(
        Case(
            "role-deleted",
            arn,
            "execution-role-trust",
            delete_role,
            [detach_basic, delete_role],
            also=("DetachRolePolicy",),
        )
    )

    # 18. a permission for the wrong bucket was added (AddPermission, typo in SourceArn)
    s3 = s.client("s3")
    s3.create_bucket(Bucket="invoices-in")
    arn = s.function("invoices", s.role("invoices-role"))
    s.client("lambda").add_permission(
        FunctionName="invoices",
        StatementId="s3-invoices",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::invoices-inbox",
        SourceAccount=ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket="invoices-in",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Put"]}
            ]
        },
    )
    wrong = rec(
        "AddPermission20150331v2",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=3),
        params={
            "functionName": "invoices",
            "statementId": "s3-invoices",
            "action": "lambda:InvokeFunction",
            "principal": "s3.amazonaws.com",
            "sourceArn": "arn:aws:s3:::invoices-inbox",
            "sourceAccount": ACCOUNT,
        },
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case(
            "wrong-source",
            arn,
            "invoke-permission",
            wrong,
            [wrong],
            action="lambda:InvokeFunction",
        )
    )

    # 19. an S3 notification was pointed at a function no permission lets S3 invoke
    s3.create_bucket(Bucket="exports-in")
    arn = s.function("exports", s.role("exports-role"))
    notification = {
        "LambdaFunctionConfigurations": [
            {"Id": "exports", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
        ]
    }
    s3.put_bucket_notification_configuration(
        Bucket="exports-in", NotificationConfiguration=notification
    )
    notified = rec(
        "PutBucketNotification",
        "s3.amazonaws.com",
        ALICE,
        ago=timedelta(hours=1),
        params={
            "bucketName": "exports-in",
            "Host": "exports-in.s3.us-east-1.amazonaws.com",
            "notification": "",
            "NotificationConfiguration": {
                "CloudFunctionConfiguration": {
                    "Id": "exports",
                    "CloudFunction": arn,
                    "Event": "s3:ObjectCreated:*",
                },
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            },
        },
        resources=[
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::exports-in"}
        ],
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case(
            "s3-notification",
            arn,
            "invoke-permission",
            notified,
            [notified],
            action="lambda:InvokeFunction",
        )
    )

    # 20. the environment key was disabled
    key = kms.create_key(Description="fx env")["KeyMetadata"]["Arn"]
    key_id = key.rsplit("/", 1)[-1]
    role = s.role("fx-role", inline={"kms": allow(["kms:Decrypt"], key)})
    arn = s.function("fx", role, KMSKeyArn=key, Environment={"Variables": {"MODE": "live"}})
    kms.disable_key(KeyId=key_id)
    disabled = rec(
        "DisableKey",
        "kms.amazonaws.com",
        ROOT_USER,
        ago=timedelta(hours=2),
        params={"keyId": key_id},
        resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}],
        ip="192.0.2.44",
        agent=CONSOLE_AGENT,
    )
    cases.append(Case("key-disabled", arn, "env-kms", disabled, [disabled]))

    # 21. the environment key was changed to one the role cannot use
    old_key = kms.create_key(Description="geo env old")["KeyMetadata"]["Arn"]
    new_key = kms.create_key(Description="geo env new")["KeyMetadata"]["Arn"]
    role = s.role("geo-role", inline={"kms": allow(["kms:Decrypt"], old_key)})
    arn = s.function("geo", role, KMSKeyArn=new_key, Environment={"Variables": {"MODE": "x"}})
    rekeyed = rec(
        "UpdateFunctionConfiguration20150331v2",
        "lambda.amazonaws.com",
        ALICE,
        ago=timedelta(hours=5),
        params={"functionName": "geo", "kMSKeyArn": new_key},
        agent=CONSOLE_AGENT,
    )
    cases.append(Case("env-key-changed", arn, "env-kms", rekeyed, [rekeyed], action="kms:Decrypt"))

    # 22. the mapping's queue was switched to a KMS key the role cannot decrypt with
    queue_key = kms.create_key(Description="leads queue")["KeyMetadata"]["Arn"]
    url, queue = s.queue("leads-in", KmsMasterKeyId=queue_key)
    role = s.role("leads-role", inline={"sqs": allow(SQS_READ, queue)})
    arn = s.function("leads", role)
    mapping = s.client("lambda").create_event_source_mapping(
        EventSourceArn=queue, FunctionName="leads"
    )["UUID"]
    encrypted = rec(
        "SetQueueAttributes",
        "sqs.amazonaws.com",
        BOB,
        ago=timedelta(hours=2),
        params={
            "queueUrl": f"https://queue.amazonaws.com/{ACCOUNT}/leads-in",  # legacy host
            "attributes": {"KmsMasterKeyId": queue_key},
        },
        ip="198.51.100.20",
    )
    tuned = rec(
        "UpdateEventSourceMapping20150331",
        "lambda.amazonaws.com",
        DEPLOY,
        ago=timedelta(hours=9),
        params={"uUID": mapping, "batchSize": 5},
        response={"uUID": mapping, "batchSize": 5, "functionArn": arn, "eventSourceArn": queue},
        ip="20.42.0.17",
        agent=TF_AGENT,
    )
    cases.append(
        Case(
            "queue-key",
            arn,
            "event-source",
            encrypted,
            [encrypted, tuned],
            also=("UpdateEventSourceMapping",),
            action="kms:Decrypt",
        )
    )

    # 23. the SNS destination's topic policy now denies the role (SetTopicAttributes)
    sns = s.client("sns")
    topic = sns.create_topic(Name="alerts-failures")["TopicArn"]
    role = s.role("alerts-role", inline={"sns": allow(["sns:Publish"], topic)})
    arn = s.function("alerts", role)
    s.client("lambda").put_function_event_invoke_config(
        FunctionName="alerts", DestinationConfig={"OnFailure": {"Destination": topic}}
    )
    topic_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": role},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(topic_policy)
    )
    topic_changed = rec(
        "SetTopicAttributes",
        "sns.amazonaws.com",
        ALICE,
        ago=timedelta(hours=1),
        params={
            "topicArn": topic,
            "attributeName": "Policy",
            "attributeValue": json.dumps(topic_policy),
        },
        agent=CONSOLE_AGENT,
    )
    cases.append(
        Case(
            "topic-policy",
            arn,
            "destinations",
            topic_changed,
            [topic_changed],
            action="sns:Publish",
        )
    )
    return cases


def noise() -> list[dict[str, Any]]:
    """Events of other functions and roles, reads, logins, service calls: never listed."""
    other = assumed("other-role", "other-fn")
    return [
        rec(
            "ConsoleLogin",
            "signin.amazonaws.com",
            ALICE,
            ago=timedelta(hours=9),
            params=None,
            response={"ConsoleLogin": "Success"},
            agent="Mozilla/5.0",
        ),
        rec(
            "RemovePermission20150331v2",
            "lambda.amazonaws.com",
            ALICE,
            ago=timedelta(hours=2, minutes=5),
            params={"functionName": "thumbs-legacy", "statementId": "thumbs-uploads-s3"},
            region="eu-west-1",
        ),
        rec(
            "RemovePermission20150331v2",
            "lambda.amazonaws.com",
            ALICE,
            ago=timedelta(hours=2),
            params={"functionName": "thumbs", "statementId": "thumbs-uploads-s3"},
            region="us-east-1",
        ),
        rec(
            "DetachRolePolicy",
            "iam.amazonaws.com",
            BOB,
            ago=timedelta(hours=1),
            params={"roleName": "inventory-role-old", "policyArn": VPC_ACCESS},
        ),
        rec(
            "DeleteRolePolicy",
            "iam.amazonaws.com",
            BOB,
            ago=timedelta(minutes=10),
            params={"roleName": "other-role", "policyName": "sqs-read"},
        ),
        rec(
            "GetFunction20150331v2",
            "lambda.amazonaws.com",
            ALICE,
            ago=timedelta(minutes=20),
            params={"functionName": "inventory"},
            read_only=True,
        ),
        rec(
            "ListFunctions20150331",
            "lambda.amazonaws.com",
            ALICE,
            ago=timedelta(minutes=21),
            params=None,
            read_only=True,
        ),
        rec(
            "AssumeRole",
            "sts.amazonaws.com",
            {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
            ago=timedelta(minutes=5),
            params={"roleArn": role_arn("checkout-role"), "roleSessionName": "checkout"},
            response={
                "credentials": {
                    "accessKeyId": "ASIAEXAMPLE",
                    "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                    "expiration": "Nov 28, 2026, 3:00:00 PM",
                }
            },
            read_only=True,
            ip="lambda.amazonaws.com",
            agent="lambda.amazonaws.com",
        ),
        rec(
            "CreateLogStream",
            "logs.amazonaws.com",
            other,
            ago=timedelta(minutes=3),
            params={
                "logGroupName": "/aws/lambda/other-fn",
                "logStreamName": "2026/11/28/[$LATEST]abc",
            },
            ip="3.91.20.118",
            agent=LAMBDA_SDK,
        ),
        rec(
            "PutItem",
            "dynamodb.amazonaws.com",
            other,
            ago=timedelta(minutes=50),
            params={"tableName": "orders"},
            error=(
                "AccessDenied",
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/other-role/other-fn is not "
                "authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:"
                f"us-east-1:{ACCOUNT}:table/orders because no identity-based policy allows "
                "the dynamodb:PutItem action",
            ),
            ip="3.91.20.118",
            agent=LAMBDA_SDK,
        ),
        # outside the default 24h window
        rec(
            "DetachRolePolicy",
            "iam.amazonaws.com",
            BOB,
            ago=timedelta(days=3),
            params={"roleName": "inventory-role", "policyArn": BASIC},
        ),
    ]


# -- the run ------------------------------------------------------------------------------------


@dataclass
class World:
    moto: MotoEndpoint
    home: Path
    cases: dict[str, Case]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("event-history")
    for name in ("aws-config", "aws-credentials"):
        (home / name).write_text("", encoding="utf-8")
    with moto_server() as endpoint:
        cases = seed(Seeder(endpoint.endpoint_url))
        yield World(endpoint, home, {c.key: c for c in cases})


async def lambda_why(
    args: list[str], world: World, cloudtrail: str, **extra_env: str
) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(world.home),
        "PYTHONPATH": str(ROOT),
        "AWS_CONFIG_FILE": str(world.home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(world.home / "aws-credentials"),
        "NO_COLOR": "1",
        **world.moto.client_env(),
        "AWS_ENDPOINT_URL_CLOUDTRAIL": cloudtrail,
        **extra_env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=world.home,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    return proc.returncode or 0, out.decode(), err.decode()


def normalised(name: str) -> str:
    """Lambda's versioned event names without their API version."""
    match = re.match(r"^([A-Za-z]+?)20\d{6}(?:v\d+)?$", name)
    return match.group(1) if match else name


def actor_of(record: dict[str, Any]) -> str | None:
    identity = record["userIdentity"]
    return identity.get("arn") or identity.get("invokedBy")


def same(event: dict[str, Any], record: dict[str, Any]) -> bool:
    return (
        event["event"] == normalised(record["eventName"]) and event["time"] == record["eventTime"]
    )


def verify(case: Case, code: int, out: str, err: str) -> list[str]:
    """What is wrong with one `check --json` run (empty: all is well)."""
    try:
        doc = json.loads(out)
    except ValueError:
        return [f"exit {code}, not JSON: {err[-400:]}"]
    problems: list[str] = []
    if code != 1:
        problems.append(f"exit {code}: {err[-300:]}")
    events = doc["events"]
    cause = case.cause
    listed = [e for e in events if same(e, cause)]
    if not listed:
        problems.append(f"{cause['eventName']} not in events {[e['event'] for e in events]}")
    else:
        event = listed[0]
        expected = {
            "actor": actor_of(cause),
            "source_ip": cause["sourceIPAddress"],
            "error": cause.get("errorCode"),
        }
        got = {k: event[k] for k in expected}
        if got != expected or not event["summary"]:
            problems.append(f"event fields {got} != {expected} ({event['summary']!r})")
    names = [e["event"] for e in events]
    for name in case.also:
        if name not in names:
            problems.append(f"{name} not in events {names}")
    for event in events:
        if not any(same(event, r) for r in case.records):
            problems.append(f"unrelated event listed: {event}")
    if [e["time"] for e in events] != sorted((e["time"] for e in events), reverse=True):
        problems.append("events are not newest first")
    failing = [
        f
        for f in doc["findings"]
        if f["status"] == "fail"
        and f["check"] == case.check
        and (case.action is None or case.action in f["actions"])
    ]
    if not failing:
        seen = [(f["check"], f["status"]) for f in doc["findings"]]
        problems.append(f"no failing {case.check} finding: {seen}")
    for finding in failing:
        related = finding.get("related_events") or []
        if not related or not same(related[0], cause):
            problems.append(f"{finding['check']} not tied to {cause['eventName']}: {related}")
            continue
        detail = finding["detail"]
        for part in (
            "Likely cause:",
            actor_of(cause),
            cause["eventTime"],
            cause["sourceIPAddress"],
            normalised(cause["eventName"]),
        ):
            if part not in detail:
                problems.append(f"detail lacks {part!r}: {detail[-300:]}")
        if not any(
            normalised(cause["eventName"]) in e["text"] and e["text"].startswith("CloudTrail ")
            for e in finding["evidence"]
        ):
            problems.append(f"no CloudTrail evidence line: {finding['evidence']}")
    # the function's own denials are findings, tied to the same change
    for finding in doc["findings"]:
        if finding["check"] == "cloudtrail-denials" and finding["status"] == "fail":
            related = finding.get("related_events") or []
            if not related or not same(related[0], cause):
                problems.append(f"cloudtrail-denials not tied to {cause['eventName']}: {related}")
    trail_gaps = [g for g in doc["gaps"] if g["operation"] == "cloudtrail:LookupEvents"]
    if trail_gaps:
        problems.append(f"CloudTrail gaps: {trail_gaps}")
    return problems


async def run_cases(world: World, server: EventHistory, keys: list[str]) -> dict[str, list[str]]:
    sem = asyncio.Semaphore(4)

    async def one(key: str) -> tuple[str, list[str]]:
        case = world.cases[key]
        async with sem:
            code, out, err = await lambda_why(
                ["check", case.function_arn, "--json"], world, server.url
            )
        return key, verify(case, code, out, err)

    results = await asyncio.gather(*(one(k) for k in keys))
    return {key: problems for key, problems in results if problems}


async def test_every_breaking_change_is_listed_and_tied_to_its_finding(world: World) -> None:
    records = [r for case in world.cases.values() for r in case.records] + noise()
    server = EventHistory(records)
    await server.start()
    try:
        problems = await run_cases(world, server, sorted(world.cases))
    finally:
        await server.close()
    assert problems == {}
    regions = {region for region, _ in server.requests}
    assert regions == {"us-east-1", "eu-west-1"}


#: a few cases of different kinds, for the endpoint variants
SAMPLE = ["s3-removed", "vpc-detached", "key-policy", "code-denied"]


@pytest.mark.parametrize(
    "variant",
    [
        # event history that indexes no resources: ResourceName lookups find nothing
        {"unindexed": True},
        # an endpoint that ignores the region of the request
        {"regional": False},
        # an endpoint that throttles every third request
        {"throttle_every": 3},
        # an endpoint that refuses lookups without an attribute (no sweep)
        {"require_attribute": True},
    ],
    ids=["unindexed", "not-regional", "throttled", "attribute-required"],
)
async def test_endpoint_variants(world: World, variant: dict[str, Any]) -> None:
    records: list[Any] = [r for case in world.cases.values() for r in case.records] + noise()
    if variant.pop("unindexed", False):
        records = [(r, []) for r in records]
    server = EventHistory(records, **variant)
    await server.start()
    try:
        problems = await run_cases(world, server, SAMPLE)
    finally:
        await server.close()
    assert problems == {}
    if variant.get("throttle_every"):
        assert server.throttled > 0


# -- a member account, its SCPs, and who changed them ------------------------------------------


@dataclass
class Org:
    member: str
    function_arn: str
    policy_id: str
    config: Path
    records: list[dict[str, Any]]
    cause: dict[str, Any]


def seed_organization(s: Seeder, home: Path) -> Org:
    """An organization managed by the bot's own account; a function in a member account
    (read through LambdaWhyReadOnly) under an OU whose SCP was changed to deny logs."""
    org = s.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member = org.create_account(AccountName="workloads", Email="workloads@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    ou = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    guardrails = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoLeaving",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            },
            {"Sid": "NoLogTampering", "Effect": "Deny", "Action": "logs:*", "Resource": "*"},
        ],
    }
    policy = org.create_policy(
        Name="guardrails",
        Description="prod guardrails",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(guardrails),
    )["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=policy["Id"], TargetId=ou)
    s.client("iam").create_role(
        RoleName="LambdaWhyOrgReader", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    # the member account, as its own principal
    creds = s.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    iam = session.client("iam", endpoint_url=s.endpoint)
    iam.create_role(RoleName="LambdaWhyReadOnly", AssumeRolePolicyDocument=json.dumps(TRUST))
    role = iam.create_role(RoleName="shipping-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="shipping-role", PolicyArn=BASIC)
    arn: str = session.client("lambda", endpoint_url=s.endpoint).create_function(
        FunctionName="shipping",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code_zip()},
    )["FunctionArn"]
    config = home / "org.toml"
    config.write_text(
        f'''[accounts."{member}"]

[organization]
role_arn = "arn:aws:iam::{ACCOUNT}:role/LambdaWhyOrgReader"
external_id = "org-reader-ext"
''',
        encoding="utf-8",
    )
    admin = assumed("AWSReservedSSO_OrgAdmin_a1b2c3d4e5f6", "carol@example.com")
    updated = rec(
        "UpdatePolicy",
        "organizations.amazonaws.com",
        admin,
        ago=timedelta(hours=3),
        params={"policyId": policy["Id"], "content": json.dumps(guardrails)},
        response={
            "policy": {
                "policySummary": {
                    "id": policy["Id"],
                    "arn": policy["Arn"],
                    "name": "guardrails",
                    "description": "prod guardrails",
                    "type": "SERVICE_CONTROL_POLICY",
                    "awsManaged": False,
                },
                "content": json.dumps(guardrails),
            }
        },
        ip="198.51.100.77",
        agent=CONSOLE_AGENT,
    )
    other = rec(
        "UpdatePolicy",
        "organizations.amazonaws.com",
        admin,
        ago=timedelta(hours=2),
        params={"policyId": "p-0th3rp0l1cy", "content": "{}"},
        ip="198.51.100.77",
        agent=CONSOLE_AGENT,
    )
    return Org(member, arn, policy["Id"], config, [updated, other], updated)


async def test_scp_change_in_the_management_account_is_tied_to_the_denial(
    world: World, tmp_path: Path
) -> None:
    org = seed_organization(Seeder(world.moto.endpoint_url), tmp_path)
    server = EventHistory(org.records)
    await server.start()
    try:
        code, out, err = await lambda_why(
            ["check", org.function_arn, "--json"],
            world,
            server.url,
            LAMBDA_WHY_CONFIG=str(org.config),
        )
    finally:
        await server.close()
    case = Case("scp", org.function_arn, "log-delivery", org.cause, org.records[:1])
    assert verify(case, code, out, err) == []
    doc = json.loads(out)
    [finding] = [f for f in doc["findings"] if f["check"] == "log-delivery"]
    assert "scp" in finding["denied_by"]
    assert f"changed organization policy {org.policy_id}" in finding["detail"]
    # the Organizations lookup went to us-east-1 with other credentials than the member
    # account's lookups: the organization reader's
    org_keys = {
        key
        for region, key, body in server.signed
        if region == "us-east-1"
        and body.get("LookupAttributes")
        == [{"AttributeKey": "EventSource", "AttributeValue": "organizations.amazonaws.com"}]
    }
    member_keys = {
        key
        for _, key, body in server.signed
        if body.get("LookupAttributes")
        and body["LookupAttributes"][0]["AttributeKey"] == "Username"
    }
    assert org_keys
    assert member_keys
    assert not org_keys & member_keys


async def test_history_lists_the_week(world: World) -> None:
    case = world.cases["vpc-detached"]
    server = EventHistory([r for c in world.cases.values() for r in c.records] + noise())
    await server.start()
    try:
        code, out, err = await lambda_why(
            ["history", case.function_arn, "--since", "7d", "--json"], world, server.url
        )
    finally:
        await server.close()
    assert code == 0, err
    doc = json.loads(out)
    # the 3-day-old detachment of the logging policy is in the week, not in the default day
    assert [(e["event"], e["actor"]) for e in doc["events"]] == [
        ("CreateNetworkInterface", actor_of(case.records[1])),
        ("DetachRolePolicy", BOB["arn"]),
        ("DetachRolePolicy", BOB["arn"]),
    ]
    assert doc["events"][2]["summary"] == f"detached policy {BASIC} from inventory-role"
    assert doc["gaps"] == []


async def test_lookup_denied_is_a_gap_not_a_crash(world: World) -> None:
    case = world.cases["trust"]
    server = EventHistory(case.records, deny=True)
    await server.start()
    try:
        code, out, err = await lambda_why(["check", case.function_arn, "--json"], world, server.url)
    finally:
        await server.close()
    assert code == 1, err  # the trust failure stands without CloudTrail
    assert "Traceback" not in err
    doc = json.loads(out)
    assert doc["events"] == []
    gaps = [g for g in doc["gaps"] if g["operation"] == "cloudtrail:LookupEvents"]
    assert gaps
    assert all(g["error"].startswith("AccessDeniedException") for g in gaps)
    assert not any(
        f["status"] == "unknown" and "cloudtrail" in f["detail"].lower() for f in doc["findings"]
    )
