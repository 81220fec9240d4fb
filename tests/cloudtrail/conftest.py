from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.aws.cloudtrail import parse_lookup_event
from bot.snapshot import (
    FunctionConfig,
    KmsKey,
    LoggingConfig,
    NamedPolicy,
    Role,
    Snapshot,
    VpcConfig,
)
from tests.cloudtrail.fake_cloudtrail import FakeCloudTrail, lookup_event
from tests.cloudtrail.records import ACCOUNT

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
REGION = "us-east-1"
FUNCTION = "orders"
ROLE = "orders-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/orders-base"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def make_snapshot(
    records: list[dict[str, Any]] | None = None,
    *,
    region: str = REGION,
    vpc: bool = False,
    kms: bool = False,
    resource_policy: dict[str, Any] | None = None,
    window: timedelta = timedelta(hours=24),
) -> Snapshot:
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{FUNCTION}"
    fn = FunctionConfig(
        arn=arn,
        name=FUNCTION,
        role_arn=ROLE_ARN,
        runtime="python3.12",
        logging=LoggingConfig(log_group=f"/aws/lambda/{FUNCTION}"),
        vpc=VpcConfig(vpc_id="vpc-0abc", subnet_ids=["subnet-0abc"], security_group_ids=["sg-0123"])
        if vpc
        else None,
        kms_key_arn=KEY_ARN if kms else None,
    )
    role = Role(
        arn=ROLE_ARN,
        name=ROLE,
        attached_policies=[
            NamedPolicy(
                name="orders-base",
                arn=POLICY_ARN,
                kind="managed",
                document={
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}
                    ],
                },
            ),
            NamedPolicy(
                name="AWSLambdaBasicExecutionRole",
                arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                kind="aws-managed",
                document={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            "Resource": "*",
                        }
                    ],
                },
            ),
        ],
    )
    snapshot = Snapshot(
        account=ACCOUNT,
        region=region,
        function=fn,
        role=role,
        resource_policy=resource_policy,
        kms_keys={KEY_ARN: KmsKey(arn=KEY_ARN)} if kms else {},
        window_start=NOW - window,
        window_end=NOW,
        collected_at=NOW,
    )
    if records is not None:
        events = [parse_lookup_event(lookup_event(r)) for r in records]
        snapshot.cloudtrail = [e for e in events if e is not None]
    return snapshot


@pytest.fixture
async def fake_cloudtrail() -> AsyncIterator[FakeCloudTrail]:
    fake = FakeCloudTrail()
    await fake.start()
    yield fake
    await fake.close()
