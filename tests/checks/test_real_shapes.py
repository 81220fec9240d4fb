"""Healthy functions in the shapes real accounts have: no `fail` (log groups, trust)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.checks import build_report, run_checks
from bot.report import Status
from bot.snapshot import LoggingConfig, NamedPolicy, Snapshot
from tests.checks.conftest import load

ACCOUNT = "111111111111"


def _basic_only(statements: list[dict[str, Any]], log_group: str | None = None) -> Snapshot:
    snap = load("healthy_basic")
    assert snap.role is not None
    snap.role.attached_policies = []
    snap.role.inline_policies = [
        NamedPolicy(
            name="AWSLambdaBasicExecutionRole-0a1b2c",
            arn=f"arn:aws:iam::{ACCOUNT}:policy/service-role/AWSLambdaBasicExecutionRole-0a1b2c",
            kind="managed",
            document={"Version": "2012-10-17", "Statement": statements},
        )
    ]
    if log_group is not None:
        snap.function.logging = LoggingConfig(log_group=log_group, log_format="JSON", custom=True)
    return snap


def _console_policy(group: str) -> list[dict[str, Any]]:
    """What the Lambda console generates for a new function's role."""
    return [
        {
            "Effect": "Allow",
            "Action": "logs:CreateLogGroup",
            "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:*",
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"],
        },
    ]


def test_console_generated_logging_policy_passes() -> None:
    snap = _basic_only(_console_policy(f"/aws/lambda/{load('healthy_basic').function.name}"))
    logs = next(f for f in run_checks(snap) if f.check == "log-delivery")
    assert logs.status is Status.PASS, logs.detail
    assert build_report(snap).summary.fail == 0


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:logs:us-east-1:111111111111:log-group:/custom/orders:*",
        "arn:aws:logs:us-east-1:111111111111:log-group:/custom/orders:log-stream:*",
        "arn:aws:logs:*:*:*",
    ],
)
def test_custom_log_group_with_matching_policy_passes(resource: str) -> None:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": resource,
        }
    ]
    snap = _basic_only(statements, log_group="/custom/orders")
    logs = next(f for f in run_checks(snap) if f.check == "log-delivery")
    assert logs.status is not Status.FAIL, logs.detail


def test_custom_log_group_with_policy_for_the_default_group_fails() -> None:
    name = load("healthy_basic").function.name
    snap = _basic_only(_console_policy(f"/aws/lambda/{name}"), log_group="/custom/orders")
    logs = next(f for f in run_checks(snap) if f.check == "log-delivery")
    assert logs.status is Status.FAIL


def test_trust_policy_with_confused_deputy_conditions_passes() -> None:
    snap = load("healthy_basic")
    assert snap.role is not None
    snap.role.trust_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*"},
                },
            }
        ],
    }
    trust = next(f for f in run_checks(snap) if f.check == "execution-role-trust")
    assert trust.status is Status.PASS, trust.detail
