"""Setups an independent tester seeds: ABAC tag conditions, KMS encryption-context
conditions, subnet-scoped VPC permissions, same-account container images, and log lines
that name no resource. Each once gave a wrong or extra finding (see docs/demo.md).
"""

from __future__ import annotations

import json
from typing import Any

from bot.demo.scenarios.base import (
    ENI_ACTIONS,
    Account,
    invocation,
    make_function,
    make_role,
    make_vpc,
    managed_policy,
    write_logs,
)
from bot.demo.scenarios.model import (
    BASIC_EXECUTION,
    CHECK_DESTINATIONS,
    CHECK_INVOKE,
    CHECK_KMS_ENV,
    CHECK_MAPPING,
    CHECK_VPC,
    Expected,
    Scenario,
)
from bot.report import Status

APP_TAG = {"aws:ResourceTag/app": "ledger"}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _root_key_policy(account: str) -> dict[str, Any]:
    return _doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )


def _abac_policy() -> dict[str, Any]:
    """Everything the function touches, allowed only on resources tagged app=ledger."""
    tagged = {"StringEquals": APP_TAG}
    return _doc(
        {
            "Sid": "LedgerQueues",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": "*",
            "Condition": tagged,
        },
        {
            "Sid": "LedgerStreams",
            "Effect": "Allow",
            "Action": [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            "Resource": "*",
            "Condition": tagged,
        },
        {"Sid": "ListStreams", "Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"},
        {
            "Sid": "LedgerOutputs",
            "Effect": "Allow",
            "Action": ["sns:Publish", "lambda:InvokeFunction", "events:PutEvents"],
            "Resource": "*",
            "Condition": tagged,
        },
        {
            "Sid": "LedgerKeys",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": tagged,
        },
    )


def abac_tags(acct: Account) -> Scenario:
    """Attribute-based access control: the role's customer managed policy allows every
    action only on resources tagged app=ledger, and every resource carries the tag."""
    name = "ledger-sync"
    region, account = acct.region, acct.account
    tags = {"app": "ledger"}
    queue_url = acct.client("sqs").create_queue(QueueName="ledger-entries", tags=tags)["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{region}:{account}:ledger-entries"
    kinesis = acct.client("kinesis")
    kinesis.create_stream(StreamName="ledger-journal", ShardCount=1)
    kinesis.add_tags_to_stream(StreamName="ledger-journal", Tags=tags)
    stream_arn = f"arn:aws:kinesis:{region}:{account}:stream/ledger-journal"
    topic = acct.client("sns").create_topic(
        Name="ledger-poison", Tags=[{"Key": "app", "Value": "ledger"}]
    )["TopicArn"]
    bus = acct.client("events").create_event_bus(
        Name="ledger-failures", Tags=[{"Key": "app", "Value": "ledger"}]
    )["EventBusArn"]
    key = acct.client("kms").create_key(
        Description="ledger secrets",
        Policy=json.dumps(_root_key_policy(account)),
        Tags=[{"TagKey": "app", "TagValue": "ledger"}],
    )["KeyMetadata"]["Arn"]
    audit_role = make_role(acct, "ledger-audit-role", managed=[BASIC_EXECUTION])
    audit = make_function(acct, "ledger-audit", audit_role, Tags=tags)
    policy = managed_policy(acct, "ledger-abac", _abac_policy())
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION, policy])
    make_function(
        acct, name, role, KMSKeyArn=key, Environment={"Variables": {"LEDGER_DB": "ledger"}}
    )
    lam = acct.client("lambda")
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=name,
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={"OnSuccess": {"Destination": audit}, "OnFailure": {"Destination": bus}},
    )
    assert queue_url
    return Scenario(
        key="abac-tags",
        title="ABAC: the role may use only resources tagged app=ledger, and all of them are",
        account=account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(
                check=CHECK_MAPPING,
                status=Status.PASS,
                principal=role,
                actions=["sqs:ReceiveMessage"],
                source=queue_arn,
            ),
            Expected(
                check=CHECK_MAPPING,
                status=Status.PASS,
                principal=role,
                actions=["kinesis:GetRecords"],
                source=stream_arn,
            ),
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
                actions=["lambda:InvokeFunction"],
            ),
            Expected(
                check=CHECK_DESTINATIONS,
                status=Status.PASS,
                principal=role,
                actions=["events:PutEvents"],
            ),
            Expected(
                check=CHECK_KMS_ENV, status=Status.PASS, principal=role, actions=["kms:Decrypt"]
            ),
        ],
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/introduction_attribute-based-access-control.html",
    )


def abac_tag_mismatch(acct: Account) -> Scenario:
    """The same ABAC policy, but the queue was created with the staging tag."""
    name = "ledger-replay"
    region, account = acct.region, acct.account
    acct.client("sqs").create_queue(
        QueueName="ledger-replay-entries", tags={"app": "ledger-staging"}
    )
    queue_arn = f"arn:aws:sqs:{region}:{account}:ledger-replay-entries"
    role = make_role(
        acct, f"{name}-role", managed=[BASIC_EXECUTION], inline={"ledger-abac": _abac_policy()}
    )
    make_function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    return Scenario(
        key="abac-tag-mismatch",
        title="ABAC: the queue's app tag is not the one the role's policy requires",
        account=account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_MAPPING,
                principal=role,
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                source=queue_arn,
                denied_by=["identity"],
            )
        ],
        doc="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-abac.html",
    )


def kms_env_context(acct: Account) -> Scenario:
    """kms:Decrypt only with Lambda's encryption context and only through Lambda."""
    name = "tax-calculator"
    region, account = acct.region, acct.account
    key = acct.client("kms").create_key(
        Description="tax secrets", Policy=json.dumps(_root_key_policy(account))
    )["KeyMetadata"]["Arn"]
    function_arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    decrypt = _doc(
        {
            "Sid": "DecryptOwnEnvironment",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key,
            "Condition": {
                "StringEquals": {
                    "kms:EncryptionContext:aws:lambda:FunctionArn": function_arn,
                    "kms:ViaService": f"lambda.{region}.amazonaws.com",
                }
            },
        }
    )
    role = make_role(
        acct, f"{name}-role", managed=[BASIC_EXECUTION], inline={"env-decrypt": decrypt}
    )
    make_function(
        acct, name, role, KMSKeyArn=key, Environment={"Variables": {"TAX_API_TOKEN": "tk-91x"}}
    )
    return Scenario(
        key="kms-env-context",
        title="kms:Decrypt scoped to the function by Lambda's encryption context",
        account=account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(
                check=CHECK_KMS_ENV, status=Status.PASS, principal=role, actions=["kms:Decrypt"]
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
    )


def vpc_subnet_scoped(acct: Account) -> Scenario:
    """ENI permissions scoped per resource type: subnets by ec2:SubnetID, security groups
    by ec2:Vpc (the VPC EC2 reports, not the placeholder moto puts in VpcConfig)."""
    name = "geo-lookup"
    region, account = acct.region, acct.account
    vpc, subnets, groups = make_vpc(acct, "10.40.0.0/16")
    ec2 = f"arn:aws:ec2:{region}:{account}"
    eni = _doc(
        {
            "Sid": "NewInterfaces",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterface",
            "Resource": f"{ec2}:network-interface/*",
        },
        {
            "Sid": "PrivateSubnetsOnly",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterface",
            "Resource": f"{ec2}:subnet/*",
            "Condition": {"StringEquals": {"ec2:SubnetID": subnets}},
        },
        {
            "Sid": "GroupsOfThisVpc",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterface",
            "Resource": f"{ec2}:security-group/*",
            "Condition": {"ArnEquals": {"ec2:Vpc": f"{ec2}:vpc/{vpc}"}},
        },
        {
            "Sid": "ManageInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        },
    )
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION], inline={"eni": eni})
    make_function(acct, name, role, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})
    return Scenario(
        key="vpc-subnet-scoped",
        title="VPC permissions scoped to the function's subnets and its VPC's security groups",
        account=account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(check=CHECK_VPC, status=Status.PASS, principal=role, actions=ENI_ACTIONS)
        ],
        doc="https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html",
    )


def image_same_account(acct: Account) -> Scenario:
    """A container image function whose repository (same account) has no policy: Lambda
    adds its own pull statement on deploy; the Active function works."""
    name = "pdf-renderer"
    repo = acct.client("ecr").create_repository(repositoryName="pdf-renderer")["repository"]
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    acct.client("lambda").create_function(
        FunctionName=name,
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{repo['repositoryUri']}:2026-11-27"},
        Timeout=60,
        MemorySize=1024,
    )
    return Scenario(
        key="image-same-account",
        title="Container image from a repository of the same account",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/images-create.html",
    )


def s3_denied_unnamed(acct: Account) -> Scenario:
    """S3 answers `Access Denied` for a missing key when the caller may not s3:ListBucket:
    the log line names no resource, and the role may read the bucket it uses."""
    name = "report-fetcher"
    read = _doc(
        {
            "Sid": "ReadReports",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acme-monthly-reports/*",
        }
    )
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION], inline={"reports": read})
    make_function(acct, name, role, Environment={"Variables": {"BUCKET": "acme-monthly-reports"}})
    write_logs(
        acct,
        name,
        invocation(
            "5b7c9e21-0d4f-4a63-8e1b-7f2a3c4d5e6f",
            600,
            "[ERROR] ClientError: An error occurred (AccessDenied) when calling the GetObject "
            "operation: Access Denied",
        ),
    )
    return Scenario(
        key="s3-denied-unnamed",
        title="`Access Denied` from S3 for a missing object: no resource named, role is fine",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax",
    )


def xacct_events_wrong_account(own: Account, other: Account) -> Scenario:
    """A rule in the second account targets the function directly (cross-account target);
    the permission names the rule but with the SourceAccount of a third account."""
    name = "partner-sync"
    role = make_role(own, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(own, name, role)
    events = other.client("events")
    rule = events.put_rule(Name="partner-hourly-sync", ScheduleExpression="rate(1 hour)")["RuleArn"]
    events.put_targets(Rule="partner-hourly-sync", Targets=[{"Id": "partner-sync", "Arn": arn}])
    own.client("lambda").add_permission(
        FunctionName=name,
        StatementId="partner-rule",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule,
        SourceAccount="333333333333",
    )
    return Scenario(
        key="xacct-events-wrong-account",
        title="A rule of another account invokes the function; the permission's SourceAccount "
        "is wrong",
        account=own.account,
        function_name=name,
        healthy=False,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                principal="events.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=rule,
                denied_by=["resource"],
            )
        ],
        doc="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html",
    )


def xacct_sns_ok(own: Account, other: Account) -> Scenario:
    """A topic of the second account delivers to the function; the permission names it."""
    name = "partner-alerts"
    role = make_role(own, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(own, name, role)
    sns = other.client("sns")
    topic = sns.create_topic(Name="partner-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    own.client("lambda").add_permission(
        FunctionName=name,
        StatementId="partner-topic",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    return Scenario(
        key="xacct-sns-ok",
        title="A topic of another account invokes the function with a matching permission",
        account=own.account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                status=Status.PASS,
                principal="sns.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source=topic,
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sns-create-x-account-permissions.html",
    )
