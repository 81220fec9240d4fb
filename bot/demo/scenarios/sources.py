"""Broken event source mappings: what Lambda's poller needs on SQS, Kinesis and DynamoDB streams."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.demo.cloudtrail import record
from bot.demo.scenarios.base import (
    Account,
    basic_logs_policy,
    make_function,
    make_role,
)
from bot.demo.scenarios.model import (
    BASIC_EXECUTION,
    CHECK_MAPPING,
    Expected,
    Scenario,
    person,
)


def sqs_no_receive(acct: Account) -> Scenario:
    name = "orders-worker"
    acct.client("sqs").create_queue(QueueName="orders-queue")
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:orders-queue"
    policy = basic_logs_policy(acct, name)
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
    role = make_role(acct, f"{name}-role", inline={"orders-worker-sqs": policy})
    make_function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    trail = [
        record(
            "PutRolePolicy",
            "iam.amazonaws.com",
            ago=timedelta(minutes=50),
            account=acct.account,
            actor=person(acct.account, "bob"),
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


def kinesis_no_getrecords(acct: Account) -> Scenario:
    name = "clickstream-consumer"
    kinesis = acct.client("kinesis")
    kinesis.create_stream(StreamName="clickstream", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="clickstream")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    policy = basic_logs_policy(acct, name)
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
    role = make_role(acct, f"{name}-role", inline={"clickstream-read": policy})
    make_function(acct, name, role)
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


def dynamodb_no_getrecords(acct: Account) -> Scenario:
    name = "orders-stream-indexer"
    table = acct.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    stream_arn = table["LatestStreamArn"]
    policy = basic_logs_policy(acct, name)
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
    role = make_role(acct, f"{name}-role", inline={"orders-stream-read": policy})
    make_function(acct, name, role)
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


def sqs_explicit_deny(acct: Account) -> Scenario:
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
    role = make_role(
        acct,
        f"{name}-role",
        managed=[
            BASIC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
        inline={"guardrail": guardrail},
    )
    make_function(acct, name, role)
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


def sqs_kms(acct: Account) -> Scenario:
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
    role = make_role(
        acct,
        f"{name}-role",
        managed=[
            BASIC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        ],
    )
    make_function(acct, name, role)
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


def sqs_queue_policy_deny(acct: Account) -> Scenario:
    name = "audit-consumer"
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:audit-events"
    role = make_role(
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
    make_function(acct, name, role)
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


def sqs_wrong_region(acct: Account) -> Scenario:
    name = "email-sender"
    acct.client("sqs").create_queue(QueueName="outbound-email")
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:outbound-email"
    policy = basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "Queue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            # copied from the us-west-2 stack: the region in the ARN is wrong
            "Resource": f"arn:aws:sqs:us-west-2:{acct.account}:outbound-email",
        }
    )
    role = make_role(acct, f"{name}-role", inline={"email-sender-sqs": policy})
    make_function(acct, name, role)
    acct.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )
    return Scenario(
        key="sqs-wrong-region",
        title="Role policy names the queue's ARN in another region (copied from us-west-2)",
        account=acct.account,
        function_name=name,
        healthy=False,
        expected=[Expected(check=CHECK_MAPPING, principal=role, actions=["sqs:ReceiveMessage"])],
        doc="https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html",
    )
