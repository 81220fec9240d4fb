"""Broken callers: resource-policy permissions for S3, EventBridge, SNS, API Gateway, URLs."""

from __future__ import annotations

from datetime import timedelta

from bot.demo.cloudtrail import record
from bot.demo.scenarios.base import (
    Account,
    make_function,
    make_rest_api,
    make_role,
)
from bot.demo.scenarios.model import (
    BASIC_EXECUTION,
    CHECK_INVOKE,
    CHECK_URL,
    Expected,
    Scenario,
    person,
)
from bot.report import Status


def s3_wrong_source(acct: Account) -> Scenario:
    name = "thumbnailer"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
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


def s3_wrong_account(acct: Account) -> Scenario:
    name = "invoice-parser"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
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


def events_no_permission(acct: Account) -> Scenario:
    name = "nightly-report"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
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
            actor=person(acct.account, "bob"),
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


def sns_no_permission(acct: Account) -> Scenario:
    name = "billing-alerts"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
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


def url_not_public(acct: Account) -> Scenario:
    name = "webhook-receiver"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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


def public_invoke(acct: Account) -> Scenario:
    name = "legacy-hook"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    make_function(acct, name, role)
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


def apigw_no_permission(acct: Account) -> Scenario:
    name = "orders-read-api"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
    make_rest_api(acct, "orders-public", arn, "orders")
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


def alias_permission(acct: Account) -> Scenario:
    name = "invoice-reminder"
    role = make_role(acct, f"{name}-role", managed=[BASIC_EXECUTION])
    arn = make_function(acct, name, role)
    lam = acct.client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    events = acct.client("events")
    rule_arn = events.put_rule(Name="invoice-reminder-daily", ScheduleExpression="rate(1 day)")[
        "RuleArn"
    ]
    # the rule invokes the alias, but the permission was added to the unqualified function
    events.put_targets(
        Rule="invoice-reminder-daily", Targets=[{"Id": "live", "Arn": f"{arn}:live"}]
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="events-invoice-reminder",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    return Scenario(
        key="alias-permission",
        title="EventBridge invokes the alias `live`; the permission is on the unqualified function",
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
        doc="https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-versions.html",
    )
