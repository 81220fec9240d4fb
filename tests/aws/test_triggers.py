"""Triggers, function URLs, destinations: found from the callers' configuration (moto)."""

from __future__ import annotations

import json
from functools import partial

import boto3

from bot.aws import collect as collect_module
from bot.aws.access import AwsAccess
from bot.config import FileConfig, Settings
from tests.aws.conftest import ACCOUNT, REGION, make_access, policy, seed_function

collect = partial(collect_module.collect, late_collectors=())


async def test_s3_notification_named_in_policy_is_a_trigger(moto: None) -> None:
    seeded = seed_function()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="orders-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="orders-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "new-object",
                    "LambdaFunctionArn": seeded.function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
    )
    snap = await collect(make_access(), "orders")
    [trigger] = [t for t in snap.triggers if t.service == "s3"]
    assert trigger.principal == "s3.amazonaws.com"
    assert trigger.source_arn == "arn:aws:s3:::orders-uploads"
    assert trigger.source_account == ACCOUNT
    assert trigger.name == "orders-uploads"
    assert trigger.detail["events"] == "s3:ObjectCreated:*"
    assert snap.gaps == []


async def test_s3_permission_without_notification_is_no_trigger(moto: None) -> None:
    seed_function()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="orders-uploads")
    snap = await collect(make_access(), "orders")
    assert [t for t in snap.triggers if t.service == "s3"] == []
    assert snap.gaps == []


async def test_s3_bucket_without_permission_found_only_by_scan(moto: None) -> None:
    seeded = seed_function()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="unlisted-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="unlisted-bucket",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": seeded.function_arn, "Events": ["s3:ObjectRemoved:*"]}
            ]
        },
    )
    plain = await collect(make_access(), "orders")
    assert [t for t in plain.triggers if t.service == "s3"] == []
    assert plain.scanned_triggers is False
    scanned = await collect(make_access(), "orders", scan_triggers=True)
    [trigger] = [t for t in scanned.triggers if t.service == "s3"]
    assert trigger.source_arn == "arn:aws:s3:::unlisted-bucket"
    assert trigger.discovered_by == "s3:ListBuckets"
    assert scanned.scanned_triggers is True


async def test_eventbridge_rules_on_default_and_custom_bus(moto: None) -> None:
    seeded = seed_function()
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "1", "Arn": seeded.function_arn}])
    events.create_event_bus(Name="orders-bus")
    events.put_rule(
        Name="order-placed",
        EventBusName="orders-bus",
        EventPattern=json.dumps({"source": ["orders"]}),
    )
    events.put_targets(
        Rule="order-placed",
        EventBusName="orders-bus",
        Targets=[{"Id": "1", "Arn": seeded.function_arn}],
    )
    events.put_rule(Name="unrelated", ScheduleExpression="rate(1 hour)")
    snap = await collect(make_access(), "orders")
    rules = {t.name: t for t in snap.triggers if t.service == "events"}
    assert set(rules) == {"nightly", "order-placed"}
    assert rules["nightly"].source_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"
    assert rules["nightly"].detail["schedule"] == "rate(1 day)"
    assert rules["order-placed"].source_arn == (
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-bus/order-placed"
    )
    assert rules["order-placed"].detail["event_bus"] == "orders-bus"
    assert all(t.principal == "events.amazonaws.com" for t in rules.values())
    assert snap.gaps == []


async def test_sns_subscription_is_a_trigger(moto: None) -> None:
    seeded = seed_function()
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=seeded.function_arn)
    other = sns.create_topic(Name="other")["TopicArn"]
    sns.subscribe(TopicArn=other, Protocol="sqs", Endpoint=seeded.queue_arn)
    snap = await collect(make_access(), "orders")
    [trigger] = [t for t in snap.triggers if t.service == "sns"]
    assert trigger.source_arn == topic
    assert trigger.principal == "sns.amazonaws.com"
    assert trigger.source_account == ACCOUNT
    assert trigger.name == "order-events"


async def test_rest_api_integration_found_by_scan(moto: None) -> None:
    seeded = seed_function()
    api = boto3.client("apigateway", region_name=REGION)
    rest = api.create_rest_api(name="orders-api")
    root = api.get_resources(restApiId=rest["id"])["items"][0]["id"]
    res = api.create_resource(restApiId=rest["id"], parentId=root, pathPart="orders")
    api.put_method(
        restApiId=rest["id"], resourceId=res["id"], httpMethod="POST", authorizationType="NONE"
    )
    uri = (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"{seeded.function_arn}/invocations"
    )
    api.put_integration(
        restApiId=rest["id"],
        resourceId=res["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    snap = await collect(make_access(), "orders", scan_triggers=True)
    [trigger] = [t for t in snap.triggers if t.service == "apigateway"]
    assert trigger.principal == "apigateway.amazonaws.com"
    assert (
        trigger.source_arn == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{rest['id']}/*/POST/orders"
    )
    assert trigger.name == "orders-api"
    plain = await collect(make_access(), "orders")
    assert [t for t in plain.triggers if t.service == "apigateway"] == []


async def test_http_api_route_found_by_scan(moto: None) -> None:
    seeded = seed_function()
    api = boto3.client("apigatewayv2", region_name=REGION)
    http = api.create_api(Name="orders-http", ProtocolType="HTTP")
    integration = api.create_integration(
        ApiId=http["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=seeded.function_arn,
        PayloadFormatVersion="2.0",
    )
    api.create_route(
        ApiId=http["ApiId"],
        RouteKey="GET /orders/{id}",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    snap = await collect(make_access(), "orders", scan_triggers=True)
    [trigger] = [t for t in snap.triggers if t.service == "apigateway"]
    assert trigger.source_arn == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{http['ApiId']}/*/GET/orders/{{id}}"
    )
    assert trigger.detail["route"] == "GET /orders/{id}"


async def test_function_url(moto: None) -> None:
    seed_function()
    boto3.client("lambda", region_name=REGION).create_function_url_config(
        FunctionName="orders", AuthType="NONE"
    )
    snap = await collect(make_access(), "orders")
    [url] = snap.function_urls
    assert url.auth_type == "NONE"
    assert url.url.startswith("https://")
    assert url.qualifier is None


async def test_no_function_url(moto: None) -> None:
    seed_function()
    snap = await collect(make_access(), "orders")
    assert snap.function_urls == []
    assert snap.gap_for("lambda:GetFunctionUrlConfig") is None


async def test_destinations_with_policies_and_keys(moto: None) -> None:
    seed_function()
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="dest")["KeyMetadata"]
    sqs = boto3.client("sqs", region_name=REGION)
    failures = sqs.create_queue(
        QueueName="orders-failures", Attributes={"KmsMasterKeyId": key["KeyId"]}
    )["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="orders-done")["TopicArn"]
    lam = boto3.client("lambda", region_name=REGION)
    lam.put_function_event_invoke_config(
        FunctionName="orders",
        DestinationConfig={
            "OnSuccess": {"Destination": topic},
            "OnFailure": {"Destination": failures_arn},
        },
    )
    snap = await collect(make_access(), "orders")
    by_kind = {d.kind: d for d in snap.destinations}
    assert set(by_kind) == {"on-success", "on-failure"}
    assert by_kind["on-success"].service == "sns"
    assert by_kind["on-success"].exists is True
    assert by_kind["on-failure"].service == "sqs"
    assert by_kind["on-failure"].kms_key_arn == key["Arn"]
    assert key["Arn"] in snap.kms_keys
    assert snap.kms_keys[key["Arn"]].policy is not None


async def test_missing_destination_queue(moto: None) -> None:
    seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    lam.put_function_event_invoke_config(
        FunctionName="orders",
        DestinationConfig={
            "OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:deleted-queue"}
        },
    )
    snap = await collect(make_access(), "orders")
    [dest] = snap.destinations
    assert dest.exists is False
    assert snap.gaps == []


async def test_esm_on_failure_destination(moto: None) -> None:
    seeded = seed_function()
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    lam = boto3.client("lambda", region_name=REGION)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName=seeded.function_arn,
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    snap = await collect(make_access(), "orders")
    [target] = [d for d in snap.destinations if d.kind == "esm-on-failure"]
    assert target.arn == dlq
    assert target.mapping_uuid == mapping["UUID"]
    assert target.exists is True
    _ = policy  # the seeded queue policy helper is shared with other tests


async def test_function_url_asked_for_alias(moto: None) -> None:
    seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    lam.create_function_url_config(FunctionName="orders", AuthType="AWS_IAM")
    snap = await collect(make_access(), "orders:live")
    assert snap.function.qualifier == "live"
    assert snap.function.version == version
    # one URL (the function's); none is reported twice for the alias
    [url] = snap.function_urls
    assert url.auth_type == "AWS_IAM"
    assert url.qualifier is None


async def test_trigger_on_alias_brings_the_alias_policy(moto: None) -> None:
    seeded = seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    lam.add_permission(
        FunctionName="orders",
        Qualifier="live",
        StatementId="sns-live",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
    )
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="to-alias")["TopicArn"]
    alias_arn = seeded.function_arn + ":live"
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=alias_arn)
    snap = await collect(make_access(), "orders")
    [trigger] = [t for t in snap.triggers if t.service == "sns"]
    assert trigger.detail["target"] == alias_arn
    assert set(snap.qualifier_policies) == {alias_arn}
    policy_doc = snap.qualifier_policies[alias_arn]
    assert policy_doc is not None
    # (moto keeps one policy per function; AWS keeps one per qualifier)
    assert "sns-live" in [s["Sid"] for s in policy_doc["Statement"]]


async def test_s3_source_account_is_the_bucket_owner_not_the_claimed_one(moto: None) -> None:
    """A permission claiming another aws:SourceAccount must not echo it into the trigger:
    S3 sends the bucket owner (the account the notification configuration is read in)."""
    seeded = seed_function(account="999999999999")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="orders-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="orders-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": seeded.function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    snap = await collect(make_access(), "orders")
    [trigger] = [t for t in snap.triggers if t.service == "s3"]
    assert trigger.source_account == ACCOUNT
    assert snap.gaps == []


async def test_eventbridge_rule_on_an_alias_is_found_with_the_alias_policy(moto: None) -> None:
    """EventBridge matches target ARNs exactly: rules on `:live` come from ListAliases."""
    seeded = seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    alias_arn = seeded.function_arn + ":live"
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="to-live", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="to-live", Targets=[{"Id": "1", "Arn": alias_arn}])
    snap = await collect(make_access(), "orders")
    [rule] = [t for t in snap.triggers if t.service == "events"]
    assert rule.name == "to-live"
    assert rule.detail["target"] == alias_arn
    assert alias_arn in snap.qualifier_policies
    assert snap.gaps == []


async def test_checking_an_alias_brings_the_unqualified_policy_for_its_triggers(
    moto: None,
) -> None:
    seeded = seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="to-function", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="to-function", Targets=[{"Id": "1", "Arn": seeded.function_arn}])
    snap = await collect(make_access(), "orders:live")
    [rule] = [t for t in snap.triggers if t.service == "events"]
    assert rule.detail["target"] == seeded.function_arn
    assert seeded.function_arn in snap.qualifier_policies


async def test_s3_bucket_of_an_unreadable_other_account_keeps_the_claimed_owner(
    moto: None,
) -> None:
    """A bucket that is not the function account's own (not in its ListBuckets), in an
    account lambda-why may not read: the permission's aws:SourceAccount cannot be
    disproved, so it stays (a correct cross-account setup is not failed)."""
    other = "222222222222"
    seeded = seed_function(account=other)
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{other}:role/owner", RoleSessionName="owner"
    )["Credentials"]
    theirs = boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    theirs.create_bucket(Bucket="orders-uploads")
    theirs.put_bucket_notification_configuration(
        Bucket="orders-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": seeded.function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    snap = await collect(make_access(), "orders")
    [trigger] = [t for t in snap.triggers if t.service == "s3"]
    assert trigger.source_account == other


async def test_checking_an_alias_reads_the_alias_policy_with_its_qualifier(moto: None) -> None:
    """`check function:orders:live` evaluates the alias's own policy: GetPolicy is asked
    with Qualifier=live (AWS keeps one resource policy per qualifier)."""
    seed_function()
    lam = boto3.client("lambda", region_name=REGION)
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    session = boto3.Session(region_name=REGION)
    asked: list[dict[str, object]] = []

    def capture(params: dict[str, object], **_: object) -> None:
        asked.append(dict(params))

    session.events.register("provide-client-params.lambda.GetPolicy", capture)
    access = AwsAccess(
        Settings(_env_file=None),  # type: ignore[call-arg]
        FileConfig(),
        base_session=session,
    )
    snap = await collect(access, "orders:live")
    assert snap.function.qualifier == "live"
    assert {
        "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders",
        "Qualifier": "live",
    } in asked
