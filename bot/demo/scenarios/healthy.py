"""Healthy setups: each must get no `fail`, and the passes they declare (false-positive hunters)."""

from __future__ import annotations

import json

from bot.demo.scenarios.base import (
    ENI_ACTIONS,
    Account,
    invocation,
    make_function,
    make_rest_api,
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
    CHECK_URL,
    CHECK_VPC,
    CHECK_XRAY,
    VPC_EXECUTION,
    Expected,
    Scenario,
)
from bot.report import Status


def healthy(acct: Account) -> Scenario:
    name = "orders-api"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role, Environment={"Variables": {"TABLE_NAME": "orders"}})
    lam = acct.client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    write_logs(
        acct,
        name,
        invocation("0b0f6e1a-3c55-4c0e-9a8e-2f5d1e7a9c01", 900)
        + invocation("6a2d8e44-91f3-4a8b-b7c2-0c9e3f1d5a22", 300),
    )
    return Scenario(
        key="healthy",
        title="Healthy function: basic execution role, correct trust",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    )


def healthy_full(acct: Account) -> Scenario:
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
    role = make_role(
        acct,
        f"{name}-role",
        managed=[
            VPC_EXECUTION,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
            "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        ],
        inline={"checkout-api": extra},
    )
    _, subnets, groups = make_vpc(acct, "10.30.0.0/16")
    arn = make_function(
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
    write_logs(acct, name, invocation("a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d", 60))
    passing = [
        Expected(check=CHECK_VPC, status=Status.PASS, principal=role, actions=ENI_ACTIONS),
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


def healthy_streams(acct: Account) -> Scenario:
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
    role = make_role(
        acct,
        f"{name}-role",
        managed=[
            "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
        ],
    )
    make_function(acct, name, role)
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


def healthy_variants(acct: Account) -> Scenario:
    """Correct setups written differently: wildcards, a permissive boundary, other targets."""
    name = "ledger-events"
    region, account = acct.region, acct.account
    sns = acct.client("sns")
    failures = sns.create_topic(Name="ledger-failures")["TopicArn"]
    bus_arn = acct.client("events").create_event_bus(Name="ledger")["EventBusArn"]
    boundary = managed_policy(
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
    role = make_role(acct, f"{name}-role", inline={"ledger-events": policy}, boundary=boundary)
    arn = make_function(acct, name, role)
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


def sns_ok(acct: Account) -> Scenario:
    name = "orders-notify"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
    topic = acct.client("sns").create_topic(Name="orders-events")["TopicArn"]
    acct.client("lambda").add_permission(
        FunctionName=name,
        StatementId="sns-orders-events",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    acct.client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    write_logs(acct, name, invocation("7c9e2a10-55b1-4f0a-8d3e-a1b2c3d4e5f6", 600))
    return Scenario(
        key="sns-ok",
        title="SNS subscription with a matching invoke permission (healthy)",
        account=acct.account,
        function_name=name,
        healthy=True,
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html",
    )


def apigw_ok(acct: Account) -> Scenario:
    name = "orders-search-api"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
    api, source = make_rest_api(acct, "orders-search", arn, "search")
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


def xacct_healthy(acct: Account) -> Scenario:
    name = "ledger-api"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
    write_logs(acct, name, invocation("f6d4c5b7-1e0a-4192-8d3e-4f5a6b7c8d9e", 120))
    return Scenario(
        key="xacct-healthy",
        title="Healthy function in a second account (via LambdaWhyReadOnly)",
        account=acct.account,
        function_name=name,
        healthy=True,
        cross_account=True,
        doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html",
    )


def xacct_s3_ok(own: Account, other: Account) -> Scenario:
    """A bucket in the second account notifies a function in the first (healthy)."""
    name = "partner-ingest"
    role = make_role(own, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(own, name, role)
    other.client("s3").create_bucket(Bucket="partner-drop-222")
    own.client("lambda").add_permission(
        FunctionName=name,
        StatementId="s3-partner-drop",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::partner-drop-222",
        SourceAccount=other.account,
    )
    other.client("s3").put_bucket_notification_configuration(
        Bucket="partner-drop-222",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "ingest", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return Scenario(
        key="xacct-s3-ok",
        title="Bucket in the second account notifies a function in the first (healthy)",
        account=own.account,
        function_name=name,
        healthy=True,
        expected=[
            Expected(
                check=CHECK_INVOKE,
                status=Status.PASS,
                principal="s3.amazonaws.com",
                actions=["lambda:InvokeFunction"],
                source="arn:aws:s3:::partner-drop-222",
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html",
    )
