"""Broken execution-role setups: trust, VPC, env var keys, destinations, tracing, logs, typos."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.demo.cloudtrail import record
from bot.demo.scenarios.base import (
    ENI_ACTIONS,
    Account,
    basic_logs_policy,
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
    CHECK_KMS_ENV,
    CHECK_LOGGING,
    CHECK_TRUST,
    CHECK_UNKNOWN_ACTIONS,
    CHECK_VPC,
    CHECK_XRAY,
    VPC_EXECUTION,
    Expected,
    Scenario,
    person,
)
from bot.report import Status


def trust_wrong(acct: Account) -> Scenario:
    name = "billing-sync"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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
            actor=person(acct.account, "alice"),
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


def trust_condition(acct: Account) -> Scenario:
    name = "report-builder"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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


def role_deleted(acct: Account) -> Scenario:
    name = "cleanup-job"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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


def vpc_no_eni(acct: Account) -> Scenario:
    name = "inventory-vpc"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    _, subnets, groups = make_vpc(acct)
    make_function(acct, name, role, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})
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
                actions=ENI_ACTIONS,
                denied_by=["identity"],
            )
        ],
        doc="https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    )


def vpc_boundary(acct: Account) -> Scenario:
    name = "payments-vpc"
    boundary = managed_policy(
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
    role = make_role(acct, f"{name}-role", managed=[VPC_EXECUTION], boundary=boundary)
    _, subnets, groups = make_vpc(acct)
    make_function(acct, name, role, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})
    trail = [
        record(
            "PutRolePermissionsBoundary",
            "iam.amazonaws.com",
            ago=timedelta(hours=3),
            account=acct.account,
            actor=person(acct.account, "carol"),
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


def kms_env(acct: Account) -> Scenario:
    name = "payroll-export"
    admin = make_role(
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
    policy = basic_logs_policy(acct, name)
    policy["Statement"].append(
        {"Sid": "DecryptEnv", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}
    )
    role = make_role(acct, f"{name}-role", inline={"payroll-export": policy})
    arn = make_function(
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
    write_logs(
        acct,
        name,
        invocation(
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
        + invocation(
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
            actor=person(acct.account, "alice"),
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


def dlq_no_send(acct: Account) -> Scenario:
    name = "invoice-mailer"
    acct.client("sqs").create_queue(QueueName="invoice-mailer-dlq")
    queue_arn = f"arn:aws:sqs:{acct.region}:{acct.account}:invoice-mailer-dlq"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    lam = acct.client("lambda")
    make_function(acct, name, role, DeadLetterConfig={"TargetArn": queue_arn})
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


def destination_lambda(acct: Account) -> Scenario:
    name = "order-placed"
    target = f"arn:aws:lambda:{acct.region}:{acct.account}:function:order-fulfil"
    make_function(
        acct, "order-fulfil", make_role(acct, "order-fulfil-role", managed=[BASIC_EXECUTION])
    )
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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


def xray_no_permission(acct: Account) -> Scenario:
    name = "search-indexer"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role, TracingConfig={"Mode": "Active"})
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


def typo_action(acct: Account) -> Scenario:
    name = "fanout-dispatcher"
    target = f"arn:aws:lambda:{acct.region}:{acct.account}:function:orders-api"
    policy = basic_logs_policy(acct, name)
    policy["Statement"].append(
        {
            "Sid": "InvokeOrders",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunctions",
            "Resource": target,
        }
    )
    role = make_role(acct, f"{name}-role", inline={"fanout-invoke": policy})
    make_function(acct, name, role)
    write_logs(
        acct,
        name,
        invocation(
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


def xacct_logging(acct: Account) -> Scenario:
    name = "ledger-reconciler"
    # Created from a template that forgot the logging permissions entirely.
    role = make_role(
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
    make_function(acct, name, role)
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
