"""GetFunction replies (real-shaped, as documented) to FunctionConfig."""

from __future__ import annotations

from typing import Any

from bot.arns import parse_function_ref
from bot.aws.lambda_ import event_source_mapping, function_config, source_type
from bot.snapshot import REDACTED

ARN = "arn:aws:lambda:us-east-1:111111111111:function:orders"

REPLY: dict[str, Any] = {
    "Configuration": {
        "FunctionName": "orders",
        "FunctionArn": ARN + ":live",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::111111111111:role/service-role/orders-role",
        "Handler": "app.handler",
        "Timeout": 30,
        "MemorySize": 512,
        "LastModified": "2026-11-27T10:00:00.000+0000",
        "Version": "7",
        "VpcConfig": {
            "SubnetIds": ["subnet-1", "subnet-2"],
            "SecurityGroupIds": ["sg-1"],
            "VpcId": "vpc-1",
            "Ipv6AllowedForDualStack": False,
        },
        "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:111111111111:orders-dlq"},
        "Environment": {
            "Variables": {"DB_PASSWORD": "hunter2", "STAGE": "prod"},
            "Error": {
                "ErrorCode": "KMSAccessDeniedException",
                "Message": "Lambda was unable to decrypt the environment variables.",
            },
        },
        "KMSKeyArn": "arn:aws:kms:us-east-1:111111111111:key/1234abcd",
        "TracingConfig": {"Mode": "Active"},
        "Layers": [
            {"Arn": "arn:aws:lambda:us-east-1:222222222222:layer:shared:3", "CodeSize": 10},
        ],
        "State": "Failed",
        "StateReason": "The function could not be created.",
        "StateReasonCode": "SubnetOutOfIPAddresses",
        "LastUpdateStatus": "Failed",
        "LastUpdateStatusReason": "No IPs",
        "LastUpdateStatusReasonCode": "SubnetOutOfIPAddresses",
        "FileSystemConfigs": [
            {
                "Arn": "arn:aws:elasticfilesystem:us-east-1:111111111111:access-point/fsap-1",
                "LocalMountPath": "/mnt/data",
            }
        ],
        "PackageType": "Zip",
        "Architectures": ["arm64"],
        "LoggingConfig": {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "INFO",
            "SystemLogLevel": "WARN",
            "LogGroup": "/custom/orders",
        },
    },
    "Code": {"RepositoryType": "S3", "Location": "https://presigned.example/code.zip"},
    "Tags": {"team": "payments"},
}


def test_function_config_reads_every_field() -> None:
    ref = parse_function_ref(ARN + ":live")
    fn = function_config(REPLY, ref)
    assert fn.arn == ARN
    assert fn.qualifier == "live"
    assert fn.version == "7"
    assert fn.role_arn == "arn:aws:iam::111111111111:role/service-role/orders-role"
    assert fn.environment == {"DB_PASSWORD": REDACTED, "STAGE": REDACTED}
    assert fn.environment_error is not None
    assert fn.environment_error.startswith("KMSAccessDeniedException: Lambda was unable")
    assert fn.kms_key_arn == "arn:aws:kms:us-east-1:111111111111:key/1234abcd"
    assert fn.vpc is not None
    assert fn.vpc.subnet_ids == ["subnet-1", "subnet-2"]
    assert fn.vpc.vpc_id == "vpc-1"
    assert fn.dead_letter_target == "arn:aws:sqs:us-east-1:111111111111:orders-dlq"
    assert fn.logging.log_group == "/custom/orders"
    assert fn.logging.custom is True
    assert fn.logging.log_format == "JSON"
    [layer] = fn.layers
    assert layer.account == "222222222222"
    [fs] = fn.file_systems
    assert fs.local_mount_path == "/mnt/data"
    assert fn.state == "Failed"
    assert fn.state_reason_code == "SubnetOutOfIPAddresses"
    assert fn.last_update_status_reason_code == "SubnetOutOfIPAddresses"
    assert fn.tracing_mode == "Active"
    assert fn.architectures == ["arm64"]
    assert fn.tags == {"team": "payments"}
    assert "hunter2" not in fn.model_dump_json()
    assert "presigned" not in fn.model_dump_json()


def test_image_function_and_defaults() -> None:
    reply = {
        "Configuration": {
            "FunctionName": "img",
            "Role": "arn:aws:iam::111111111111:role/r",
            "PackageType": "Image",
            "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""},
        },
        "Code": {
            "RepositoryType": "ECR",
            "ImageUri": "111111111111.dkr.ecr.us-east-1.amazonaws.com/img:latest",
        },
    }
    fn = function_config(
        reply, parse_function_ref("arn:aws:lambda:us-east-1:111111111111:function:img")
    )
    assert fn.package_type == "Image"
    assert fn.image_uri == "111111111111.dkr.ecr.us-east-1.amazonaws.com/img:latest"
    assert fn.vpc is None
    assert fn.logging.log_group == "/aws/lambda/img"
    assert fn.logging.custom is False
    assert fn.environment == {}


def test_source_types() -> None:
    assert source_type("arn:aws:sqs:us-east-1:111111111111:q") == "sqs"
    assert source_type("arn:aws:kinesis:us-east-1:111111111111:stream/s") == "kinesis"
    assert (
        source_type(
            "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2024-01-01T00:00:00.000"
        )
        == "dynamodb"
    )
    assert source_type("arn:aws:kafka:us-east-1:111111111111:cluster/c/uuid") == "msk"
    assert source_type("arn:aws:mq:us-east-1:111111111111:broker:b:b-1") == "mq"
    assert source_type("arn:aws:rds:us-east-1:111111111111:cluster:docs") == "docdb"
    assert (
        source_type(
            None, {"SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}}}
        )
        == "kafka"
    )
    assert source_type(None) == "unknown"


def test_self_managed_kafka_mapping() -> None:
    mapping = event_source_mapping(
        {
            "UUID": "u-1",
            "FunctionArn": ARN,
            "State": "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "LastProcessingResult": "PROBLEM: Connection error.",
            "Topics": ["orders"],
            "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b1:9092"]}},
            "SourceAccessConfigurations": [
                {
                    "Type": "BASIC_AUTH",
                    "URI": "arn:aws:secretsmanager:us-east-1:111111111111:secret:kafka-AbCd",
                },
                {"Type": "VPC_SUBNET", "URI": "subnet:subnet-1"},
            ],
            "DestinationConfig": {
                "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:111111111111:failed"}
            },
            "FilterCriteria": {"Filters": [{"Pattern": '{"value": [1]}'}]},
        }
    )
    assert mapping.source.type == "kafka"
    assert mapping.source.arn is None
    assert mapping.enabled is False
    assert mapping.topics == ["orders"]
    assert mapping.self_managed_endpoints == {"KAFKA_BOOTSTRAP_SERVERS": ["b1:9092"]}
    assert mapping.source_access_configurations[0] == {
        "type": "BASIC_AUTH",
        "uri": "arn:aws:secretsmanager:us-east-1:111111111111:secret:kafka-AbCd",
    }
    assert mapping.on_failure_destination == "arn:aws:sqs:us-east-1:111111111111:failed"
    assert mapping.last_processing_result == "PROBLEM: Connection error."
    assert mapping.filter_criteria == ['{"value": [1]}']


def test_policy_documents_decoded_in_every_form() -> None:
    from urllib.parse import quote

    from bot.aws.iam import decode_document

    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    import json

    assert decode_document(doc) == doc
    assert decode_document(json.dumps(doc)) == doc
    assert decode_document(quote(json.dumps(doc))) == doc
    assert decode_document(None) is None
    assert decode_document("not json") is None
