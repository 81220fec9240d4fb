"""vpc-eni: CreateNetworkInterface is asked per resource with that resource's condition keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.checks import vpc_eni
from bot.report import Status
from bot.snapshot import NamedPolicy, Network, Snapshot, Subnet

FIXTURES = Path(__file__).parent / "fixtures"
EC2 = "arn:aws:ec2:us-east-1:111111111111"
REST = {
    "Effect": "Allow",
    "Action": [
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeSubnets",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ],
    "Resource": "*",
}


def _snapshot(*statements: dict[str, Any], network: Network | None = None) -> Snapshot:
    snapshot = Snapshot.load(FIXTURES / "broken_vpc_identity.json")
    assert snapshot.role is not None
    snapshot.network = network
    snapshot.role.inline_policies.append(
        NamedPolicy(
            name="eni",
            kind="inline",
            document={"Version": "2012-10-17", "Statement": [*statements, REST]},
        )
    )
    return snapshot


ENI_AND_GROUPS = {
    "Effect": "Allow",
    "Action": "ec2:CreateNetworkInterface",
    "Resource": [f"{EC2}:network-interface/*", f"{EC2}:security-group/*"],
}


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        # the subnets named by ec2:SubnetID (a key of the subnet resource)
        ({"Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": f"{EC2}:subnet/*",
          "Condition": {"StringEquals": {"ec2:SubnetID": ["subnet-0aaa", "subnet-0bbb"]}}}, "pass"),
        # only one of the two subnets
        ({"Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": f"{EC2}:subnet/*",
          "Condition": {"StringEquals": {"ec2:SubnetID": ["subnet-0aaa"]}}}, "fail"),
        # ec2:Vpc is a key of subnets and groups
        ({"Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": f"{EC2}:subnet/*",
          "Condition": {"ArnEquals": {"ec2:Vpc": f"{EC2}:vpc/vpc-0abc"}}}, "pass"),
    ],
)  # fmt: skip
def test_subnet_condition_keys(statement: dict[str, Any], status: str) -> None:
    [finding] = vpc_eni.run(_snapshot(ENI_AND_GROUPS, statement))
    assert finding.status is Status(status), finding.detail


def test_vpc_condition_on_everything_fails_on_the_new_interface() -> None:
    # the new network interface carries no ec2:Vpc key: a Resource "*" statement
    # conditioned on ec2:Vpc does not allow it
    statement = {
        "Effect": "Allow",
        "Action": "ec2:CreateNetworkInterface",
        "Resource": "*",
        "Condition": {"ArnEquals": {"ec2:Vpc": f"{EC2}:vpc/vpc-0abc"}},
    }
    [finding] = vpc_eni.run(_snapshot(statement))
    assert finding.status is Status.FAIL
    assert f"{EC2}:network-interface/*" in finding.resources
    assert not any("subnet/" in r for r in finding.resources)


def test_subnets_vpc_wins_over_the_configured_vpc_id() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "ec2:CreateNetworkInterface",
        "Resource": f"{EC2}:subnet/*",
        "Condition": {"ArnEquals": {"ec2:Vpc": f"{EC2}:vpc/vpc-real"}},
    }
    network = Network(
        subnets=[
            Subnet(id="subnet-0aaa", vpc_id="vpc-real"),
            Subnet(id="subnet-0bbb", vpc_id="vpc-real"),
        ]
    )
    snapshot = _snapshot(ENI_AND_GROUPS, statement, network=network)
    assert snapshot.function.vpc is not None
    snapshot.function.vpc.vpc_id = "vpc-123abc"  # a placeholder (moto)
    [finding] = vpc_eni.run(snapshot)
    assert finding.status is Status.PASS, finding.detail
