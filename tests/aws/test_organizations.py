"""SCPs and RCPs on the path from the root to the account (moto Organizations)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import boto3

from bot.aws import collect as collect_module
from bot.aws.organizations import read_org_policies
from bot.aws.reader import Reader
from bot.config import FileConfig, OrganizationConfig
from tests.aws.conftest import ACCOUNT, REGION, make_access, seed_function

collect = partial(collect_module.collect, late_collectors=())
ORG = FileConfig(
    organization=OrganizationConfig(
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/LambdaWhyOrgReader", external_id="org-ext"
    )
)


def deny_all(action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}],
        }
    )


def build_org() -> dict[str, Any]:
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member = org.create_account(AccountName="workloads", Email="w@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    ou = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    scp = org.create_policy(
        Name="no-kms-delete",
        Description="",
        Type="SERVICE_CONTROL_POLICY",
        Content=deny_all("kms:ScheduleKeyDeletion"),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=ou)
    return {"root": root, "member": member, "ou": ou, "scp": scp}


async def test_scp_levels_root_to_account(moto: None) -> None:
    ids = build_org()
    access = make_access(config=ORG)
    reader = Reader(access, account=ids["member"], region=REGION)
    org = await read_org_policies(reader, ids["member"])
    assert reader.gaps == []
    assert org is not None
    assert org.management_account == ACCOUNT
    assert org.scp is not None
    assert len(org.scp) == 3  # root, OU, account
    root_level, ou_level, account_level = org.scp
    assert "FullAWSAccess" in {p.name for p in root_level}
    assert {p.name for p in ou_level} >= {"no-kms-delete"}
    [custom] = [p for p in ou_level if p.name == "no-kms-delete"]
    assert custom.document is not None
    assert custom.document["Statement"][0]["Effect"] == "Deny"
    assert custom.kind == "managed"
    assert all(p.document is not None for level in org.scp for p in level)
    assert "FullAWSAccess" in {p.name for p in account_level}
    assert org.rcp is None  # RCPs not enabled in the root
    # cached per account: a second read calls nothing
    before = access.recorder.total
    again = await read_org_policies(reader, ids["member"])
    assert again == org
    assert access.recorder.total == before


async def test_management_account_has_no_scps(moto: None) -> None:
    build_org()
    reader = Reader(make_access(config=ORG), account=ACCOUNT, region=REGION)
    org = await read_org_policies(reader, ACCOUNT)
    assert org is not None
    assert org.scp is None
    assert org.rcp is None
    assert org.management_account == ACCOUNT


async def test_without_org_config_not_evaluated(moto: None) -> None:
    seed_function()
    snap = await collect(make_access(), "orders")
    assert snap.organization is None
    assert "organizations:DescribeOrganization" not in make_access().recorder.calls


async def test_org_read_failure_is_a_gap(moto: None) -> None:
    seed_function()  # no organization exists in moto: DescribeOrganization fails
    snap = await collect(make_access(config=ORG), "orders")
    assert snap.organization is None
    gap = snap.gap_for("organizations:DescribeOrganization")
    assert gap is not None
    assert "AWSOrganizationsNotInUseException" in gap.error


async def test_rcp_levels(moto: None) -> None:
    ids = build_org()
    org = boto3.client("organizations", region_name=REGION)
    org.enable_policy_type(RootId=ids["root"], PolicyType="RESOURCE_CONTROL_POLICY")
    rcp = org.create_policy(
        Name="no-public-sqs",
        Description="",
        Type="RESOURCE_CONTROL_POLICY",
        Content=deny_all("sqs:*"),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=rcp, TargetId=ids["member"])
    reader = Reader(make_access(config=ORG), account=ids["member"], region=REGION)
    policies = await read_org_policies(reader, ids["member"])
    assert reader.gaps == []
    assert policies is not None
    assert policies.rcp is not None
    assert len(policies.rcp) == 3
    assert "no-public-sqs" in {p.name for p in policies.rcp[2]}
    assert "no-public-sqs" not in {p.name for p in policies.rcp[1]}
