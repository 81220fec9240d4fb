"""The scenario model: what was seeded and the findings a diagnosis must (or must not) give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.report import Status

PRIMARY_ACCOUNT = "123456789012"  # moto's default account: the "own" account of the CLI
SECOND_ACCOUNT = "222222222222"  # read through LambdaWhyReadOnly
DEFAULT_ACCOUNTS = (PRIMARY_ACCOUNT, SECOND_ACCOUNT)
REGION = "us-east-1"
READ_ONLY_ROLE = "LambdaWhyReadOnly"

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"

#: check ids of `bot/checks` (CONTRACTS §2 `findings[].check`) the scenarios expect
CHECK_TRUST = "execution-role-trust"
CHECK_LOGGING = "log-delivery"
CHECK_VPC = "vpc-eni"
CHECK_MAPPING = "event-source"
CHECK_INVOKE = "invoke-permission"
CHECK_URL = "function-url"
CHECK_KMS_ENV = "env-kms"
CHECK_DESTINATIONS = "destinations"
CHECK_XRAY = "xray"
CHECK_UNKNOWN_ACTIONS = "unknown-actions"

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class Expected(BaseModel):
    """One finding a correct diagnosis must contain."""

    check: str
    status: Status = Status.FAIL
    principal: str | None = None
    #: the finding's actions must include all of these
    actions: list[str] = Field(default_factory=list)
    #: the trigger ARN; None: not asserted
    source: str | None = None
    #: the finding's denied_by must include all of these; None: not asserted
    denied_by: list[str] | None = None


class Scenario(BaseModel):
    """One seeded function and what a diagnosis of it must say."""

    key: str
    title: str
    account: str
    region: str = REGION
    function_name: str
    healthy: bool
    #: for a broken scenario its root causes; for a healthy one, passes that must be there
    expected: list[Expected] = Field(default_factory=list)
    #: the trigger is only discoverable with `--scan-triggers` (e.g. an S3 bucket the
    #: resource policy does not name)
    scan_triggers: bool = False
    #: a function in another account, read through its read-only role
    cross_account: bool = False
    #: the AWS doc page the setup follows
    doc: str = ""
    #: CloudTrail records (as a trail stores them) of what led here, for event history
    cloudtrail: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def role_arn(self) -> str:
        return role_arn(self.account, f"service-role/{self.function_name}-role")


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def person(account: str, name: str) -> str:
    """A human's session through the deployer role."""
    return f"arn:aws:sts::{account}:assumed-role/deployer/{name}"
