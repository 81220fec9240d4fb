"""event-source / destinations: MSK IAM access control, unusable KMS keys, collector shapes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.checks import build_report, run_checks
from bot.report import Finding, Status
from bot.snapshot import (
    DestinationTarget,
    EventSource,
    EventSourceMapping,
    KmsKey,
    NamedPolicy,
    Snapshot,
)
from tests.checks.conftest import load

ROLE = "arn:aws:iam::111111111111:role/orders-role"
CLUSTER = "arn:aws:kafka:us-east-1:111111111111:cluster/orders/abc-1"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:AmazonMSK_x-AbCdEf"
MSK_MANAGED = "arn:aws:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole"


def _check(snapshot: Snapshot, check: str) -> Finding:
    return next(f for f in run_checks(snapshot) if f.check == check)


def _msk(attributes: dict[str, str], configs: list[dict[str, str]] | None = None) -> Snapshot:
    snap = load("healthy_basic")
    assert snap.role is not None
    snap.role.attached_policies.append(
        NamedPolicy(
            name="AWSLambdaMSKExecutionRole",
            arn=MSK_MANAGED,
            kind="aws-managed",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "kafka:DescribeCluster",
                            "kafka:DescribeClusterV2",
                            "kafka:GetBootstrapBrokers",
                            "ec2:CreateNetworkInterface",
                            "ec2:DescribeNetworkInterfaces",
                            "ec2:DescribeVpcs",
                            "ec2:DeleteNetworkInterface",
                            "ec2:DescribeSubnets",
                            "ec2:DescribeSecurityGroups",
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                        ],
                        "Resource": "*",
                    }
                ],
            },
        )
    )
    snap.event_source_mappings = [
        EventSourceMapping(
            uuid="m-1",
            source=EventSource(arn=CLUSTER, type="msk", exists=True, attributes=attributes),
            topics=["orders"],
            source_access_configurations=configs or [],
        )
    ]
    return snap


def _grant(snap: Snapshot, *statements: dict[str, Any]) -> None:
    assert snap.role is not None
    snap.role.inline_policies.append(
        NamedPolicy(
            name="kafka-data",
            document={"Version": "2012-10-17", "Statement": list(statements)},
        )
    )


def test_msk_with_iam_auth_needs_the_kafka_cluster_actions() -> None:
    snap = _msk({"SaslIam": "true", "SaslScram": "false"})
    finding = _check(snap, "event-source")
    assert finding.status is Status.FAIL
    assert {
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeClusterDynamicConfiguration",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:ReadData",
        "kafka-cluster:DescribeGroup",
        "kafka-cluster:AlterGroup",
    } <= set(finding.actions)
    assert "arn:aws:kafka:us-east-1:111111111111:topic/orders/abc-1/orders" in finding.resources
    assert "arn:aws:kafka:us-east-1:111111111111:group/orders/abc-1/m-1" in finding.resources
    assert finding.fix is not None
    # the managed policy would not help: it has no kafka-cluster actions
    assert "AWSLambdaMSKExecutionRole" not in " ".join(finding.fix.commands)


def test_msk_with_iam_auth_and_scoped_grants_passes() -> None:
    snap = _msk({"SaslIam": "true"})
    _grant(
        snap,
        {
            "Effect": "Allow",
            "Action": [
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeClusterDynamicConfiguration",
            ],
            "Resource": CLUSTER,
        },
        {
            "Effect": "Allow",
            "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
            "Resource": "arn:aws:kafka:us-east-1:111111111111:topic/orders/*",
        },
        {
            "Effect": "Allow",
            "Action": ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
            "Resource": "arn:aws:kafka:us-east-1:111111111111:group/orders/*",
        },
    )
    assert _check(snap, "event-source").status is Status.PASS


@pytest.mark.parametrize(
    ("attributes", "configs"),
    [
        ({"SaslIam": "false", "Unauthenticated": "true"}, None),
        # SCRAM secret on the mapping: Lambda does not use IAM auth (the secret is checked)
        (
            {"SaslIam": "true", "SaslScram": "true"},
            [
                {
                    "type": "SASL_SCRAM_512_AUTH",
                    "uri": SECRET,
                }
            ],
        ),
        ({}, None),  # cluster not described: not assumed
    ],
)
def test_msk_without_iam_auth_needs_no_kafka_cluster_actions(
    attributes: dict[str, str], configs: list[dict[str, str]] | None
) -> None:
    snap = _msk(attributes, configs)
    finding = _check(snap, "event-source")
    assert not any(a.startswith("kafka-cluster:") for a in finding.actions)


def test_scram_secret_in_collector_shape_is_checked() -> None:
    """The collector stores source access configurations as {"type", "uri"}."""
    secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:AmazonMSK_x-AbCdEf"
    snap = _msk(
        {"SaslIam": "false", "SaslScram": "true"}, [{"type": "SASL_SCRAM_512_AUTH", "uri": secret}]
    )
    finding = _check(snap, "event-source")
    assert finding.status is Status.FAIL
    assert "secretsmanager:GetSecretValue" in finding.actions


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion"])
def test_unusable_key_on_the_event_source_fails(state: str) -> None:
    snap = load("healthy_full")
    snap.kms_keys[KEY].key_state = state
    snap.event_source_mappings[0].source.kms_key_arn = KEY
    finding = _check(snap, "event-source")
    assert finding.status is Status.FAIL
    assert state in finding.title
    assert finding.resources == [KEY]
    assert finding.fix is not None
    assert f"aws kms enable-key --key-id {KEY}" in finding.fix.commands
    assert build_report(snap).summary.fail >= 1


def test_unusable_key_on_a_destination_fails() -> None:
    snap = load("healthy_full")
    snap.kms_keys[KEY].key_state = "PendingDeletion"
    snap.destinations = [
        DestinationTarget(
            kind="on-failure",
            arn="arn:aws:sns:us-east-1:111111111111:orders-failures",
            service="sns",
            kms_key_arn=KEY,
            exists=True,
        )
    ]
    finding = _check(snap, "destinations")
    assert finding.status is Status.FAIL
    assert "PendingDeletion" in finding.title
    assert finding.fix is not None
    assert finding.fix.commands[0] == f"aws kms cancel-key-deletion --key-id {KEY}"


def test_aws_managed_key_state_is_not_judged() -> None:
    snap = load("healthy_full")
    snap.kms_keys[KEY] = KmsKey(arn=KEY, key_manager="AWS", key_state="Disabled")
    snap.event_source_mappings[0].source.kms_key_arn = KEY
    assert "Disabled" not in _check(snap, "event-source").title
