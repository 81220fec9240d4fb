"""Event sources, KMS keys, secrets and the VPC network, read from moto."""

from __future__ import annotations

import json
from functools import partial

import boto3

from bot.aws import collect as collect_module
from bot.aws import docdb, kafka, mq, secrets
from bot.aws.reader import Reader
from bot.snapshot import EventSource
from tests.aws.conftest import ACCOUNT, REGION, TRUST, make_access, policy, seed_function, zip_bytes

collect = partial(collect_module.collect, late_collectors=())


def reader() -> Reader:
    return Reader(make_access(), account=ACCOUNT, region=REGION)


async def test_sqs_source_policy_attributes_and_alias_key(moto: None) -> None:
    seeded = seed_function()
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="queue key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders-queue", TargetKeyId=key["KeyId"])
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=seeded.role_arn, Operations=["Decrypt"])
    sqs = boto3.client("sqs", region_name=REGION)
    queue_policy = sqs.get_queue_attributes(QueueUrl=seeded.queue_url, AttributeNames=["Policy"])
    sqs.set_queue_attributes(
        QueueUrl=seeded.queue_url,
        Attributes={
            "KmsMasterKeyId": "alias/orders-queue",
            "Policy": queue_policy["Attributes"]["Policy"],
        },
    )
    snap = await collect(make_access(), "orders")
    [mapping] = snap.event_source_mappings
    source = mapping.source
    assert source.exists is True
    assert source.policy is not None
    assert source.policy["Statement"][0]["Principal"] == {"AWS": seeded.role_arn}
    assert "Policy" not in source.attributes
    assert source.attributes["KmsMasterKeyId"] == "alias/orders-queue"
    assert source.kms_key_arn == key["Arn"]
    stored = snap.kms_keys[key["Arn"]]
    assert stored.key_manager == "CUSTOMER"
    assert stored.key_state == "Enabled"
    assert stored.policy is not None
    assert stored.policy["Statement"]
    [grant] = stored.grants
    assert grant.grantee_principal == seeded.role_arn
    assert grant.operations == ["Decrypt"]
    assert snap.gaps == []


async def test_deleted_queue_is_not_a_gap(moto: None) -> None:
    seeded = seed_function()
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=seeded.queue_url)
    snap = await collect(make_access(), "orders")
    [mapping] = snap.event_source_mappings
    assert mapping.source.exists is False
    assert snap.gaps == []


async def test_env_kms_key(moto: None) -> None:
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="enc",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="index.handler",
        Code={"ZipFile": zip_bytes()},
        KMSKeyArn=key["Arn"],
        Environment={"Variables": {"SECRET": "s3cr3t"}},
    )
    snap = await collect(make_access(), "enc")
    assert snap.function.kms_key_arn == key["Arn"]
    assert snap.kms_keys[key["Arn"]].policy is not None
    assert "s3cr3t" not in snap.model_dump_json()


async def test_kinesis_source_with_key_and_resource_policy(moto: None) -> None:
    seeded = seed_function()
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]
    kinesis.start_stream_encryption(StreamName="clicks", EncryptionType="KMS", KeyId=key["Arn"])
    kinesis.put_resource_policy(
        ResourceARN=stream,
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": seeded.role_arn},
                "Action": "kinesis:GetRecords",
                "Resource": stream,
            }
        ),
    )
    boto3.client("lambda", region_name=REGION).create_event_source_mapping(
        EventSourceArn=stream, FunctionName="orders", StartingPosition="LATEST"
    )
    snap = await collect(make_access(), "orders")
    [kinesis_mapping] = [m for m in snap.event_source_mappings if m.source.type == "kinesis"]
    source = kinesis_mapping.source
    assert source.exists is True
    assert source.attributes["EncryptionType"] == "KMS"
    assert source.kms_key_arn == key["Arn"]
    assert key["Arn"] in snap.kms_keys
    assert source.policy is not None
    assert source.policy["Statement"][0]["Action"] == "kinesis:GetRecords"


async def test_dynamodb_stream_source(moto: None) -> None:
    seed_function()
    ddb = boto3.client("dynamodb", region_name=REGION)
    table = ddb.create_table(
        TableName="carts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    stream = table["LatestStreamArn"]
    boto3.client("lambda", region_name=REGION).create_event_source_mapping(
        EventSourceArn=stream, FunctionName="orders", StartingPosition="LATEST"
    )
    snap = await collect(make_access(), "orders")
    [mapping] = [m for m in snap.event_source_mappings if m.source.type == "dynamodb"]
    assert mapping.source.exists is True
    assert mapping.source.attributes["TableName"] == "carts"
    assert mapping.source.attributes["StreamViewType"] == "NEW_IMAGE"
    assert mapping.source.policy is None
    assert [g for g in snap.gaps if g.resource == stream] == []


async def test_msk_cluster_reader(moto: None) -> None:
    client = boto3.client("kafka", region_name=REGION)
    arn = client.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    source = await kafka.read_cluster(reader(), EventSource(arn=arn, type="msk"))
    assert source.exists is True
    assert source.attributes["SaslIam"] == "true"
    assert source.attributes["SubnetIds"] == "subnet-1"


async def test_mq_broker_reader(moto: None) -> None:
    client = boto3.client("mq", region_name=REGION)
    broker = client.create_broker(
        BrokerName="orders-mq",
        DeploymentMode="SINGLE_INSTANCE",
        EngineType="RABBITMQ",
        EngineVersion="3.13",
        HostInstanceType="mq.t3.micro",
        PubliclyAccessible=False,
        AutoMinorVersionUpgrade=True,
        Users=[{"Username": "admin", "Password": "a-long-password-1"}],
    )
    source = await mq.read_broker(reader(), EventSource(arn=broker["BrokerArn"], type="mq"))
    assert source.exists is True
    assert source.attributes["EngineType"] == "RABBITMQ"
    assert source.attributes["PubliclyAccessible"] == "false"


async def test_missing_docdb_cluster(moto: None) -> None:
    gone = await docdb.read_cluster(
        reader(), EventSource(arn=f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:gone", type="docdb")
    )
    assert gone.exists is False


async def test_secret_metadata_never_value(moto: None) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]
    arn = client.create_secret(
        Name="kafka-creds", SecretString="top-secret-password", KmsKeyId=key["Arn"]
    )["ARN"]
    client.put_resource_policy(
        SecretId=arn,
        ResourcePolicy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    access = make_access()
    r = Reader(access, account=ACCOUNT, region=REGION)
    secret, kms_key = await secrets.read_secret(r, arn)
    assert secret.exists is True
    assert kms_key == key["Arn"]
    assert secret.policy is not None
    assert "top-secret-password" not in secret.model_dump_json()
    assert "secretsmanager:GetSecretValue" not in access.recorder.calls
    gone, _ = await secrets.read_secret(
        r, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    )
    assert gone.exists is False


async def test_vpc_network_and_missing_subnet(moto: None) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]
    spare = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="vpc-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="in-vpc",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": zip_bytes()},
        VpcConfig={"SubnetIds": [subnet["SubnetId"], spare], "SecurityGroupIds": [group]},
    )
    ec2.delete_subnet(SubnetId=spare)
    snap = await collect(make_access(), "in-vpc")
    assert snap.function.vpc is not None
    assert snap.network is not None
    [found] = snap.network.subnets
    assert found.id == subnet["SubnetId"]
    assert found.vpc_id == vpc
    assert found.available_ips is not None
    assert snap.network.missing_subnet_ids == [spare]
    [sg] = snap.network.security_groups
    assert sg.id == group
    assert sg.name == "fn"
    assert snap.network.missing_security_group_ids == []


async def test_layer_policies_only_for_other_accounts(moto: None) -> None:
    from bot.aws.lambda_ import read_layer_policies
    from bot.snapshot import FunctionConfig, Layer, LoggingConfig

    access = make_access()
    fn = FunctionConfig(
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
        name="f",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        logging=LoggingConfig(log_group="/aws/lambda/f"),
        layers=[
            Layer(arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:own:1", account=ACCOUNT),
            Layer(
                arn=f"arn:aws:lambda:{REGION}:222222222222:layer:shared:3", account="222222222222"
            ),
        ],
    )
    r = Reader(access, account=ACCOUNT, region=REGION)
    layers = await read_layer_policies(r, fn)
    assert [layer.arn for layer in layers] == [layer.arn for layer in fn.layers]
    assert access.recorder.calls["lambda:GetLayerVersionPolicy"] == 1


async def test_aws_managed_key_alias_not_yet_created(moto: None) -> None:
    seeded = seed_function()
    sqs = boto3.client("sqs", region_name=REGION)
    queue_policy = sqs.get_queue_attributes(QueueUrl=seeded.queue_url, AttributeNames=["Policy"])
    sqs.set_queue_attributes(
        QueueUrl=seeded.queue_url,
        Attributes={
            "KmsMasterKeyId": "alias/aws/sqs",
            "Policy": queue_policy["Attributes"]["Policy"],
        },
    )
    snap = await collect(make_access(), "orders")
    [mapping] = snap.event_source_mappings
    assert mapping.source.kms_key_arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sqs"
    assert [g for g in snap.gaps if g.operation.startswith("kms:")] == []


async def test_deleted_customer_key_is_a_gap(moto: None) -> None:
    seeded = seed_function()
    sqs = boto3.client("sqs", region_name=REGION)
    queue_policy = sqs.get_queue_attributes(QueueUrl=seeded.queue_url, AttributeNames=["Policy"])
    missing = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    sqs.set_queue_attributes(
        QueueUrl=seeded.queue_url,
        Attributes={"KmsMasterKeyId": missing, "Policy": queue_policy["Attributes"]["Policy"]},
    )
    snap = await collect(make_access(), "orders")
    [mapping] = snap.event_source_mappings
    assert mapping.source.kms_key_arn == missing
    gap = snap.gap_for("kms:DescribeKey", missing)
    assert gap is not None
    assert "NotFoundException" in gap.error
