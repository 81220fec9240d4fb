"""The CloudFormation templates lint clean and grant only read access to configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.deploy.conftest import (
    DEPLOY,
    TEMPLATES,
    granted_actions,
    load_template,
    role_policies,
    role_resource,
)
from tests.deploy.iam_actions import access_level

#: regions the templates must lint clean in (commercial, another commercial, GovCloud, China)
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1", "us-gov-west-1", "cn-north-1"]

#: read actions that return data rather than configuration. The role grants none of them,
#: except logs:FilterLogEvents: the log evidence and the support bundle read the function's
#: own log lines by design (docs/deploy.md says so).
DATA_READS = {
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:SubscribeToShard",
    "logs:GetLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:FilterLogEvents",
    "lambda:InvokeFunction",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "mq:DescribeUser",
}
ALLOWED_DATA_READS = {"logs:FilterLogEvents"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_lints_clean(path: Path) -> None:
    matches = lint_file(path, ManualArgs(regions=LINT_REGIONS, include_checks=["I"]))
    assert [str(m) for m in matches] == []


#: the roles lambda-why assumes (the hub role is the one it runs as)
ASSUMED = [p for p in TEMPLATES if p.name in {"readonly-role.yaml", "org-reader-role.yaml"}]


def test_templates_present() -> None:
    assert {p.name for p in TEMPLATES} == {
        "readonly-role.yaml",
        "org-reader-role.yaml",
        "hub-role.yaml",
    }


@pytest.mark.parametrize("path", ASSUMED, ids=lambda p: p.name)
def test_trust_is_hub_only_with_required_external_id(path: Path) -> None:
    template = load_template(path)
    external_id = template["Parameters"]["ExternalId"]
    assert "Default" not in external_id, "the ExternalId must be supplied, never defaulted"
    assert external_id["MinLength"] >= 2
    hub = template["Parameters"]["HubPrincipalArn"]
    assert "Default" not in hub
    trust = role_resource(template)["AssumeRolePolicyDocument"]
    statements = trust["Statement"]
    assert len(statements) == 1
    (statement,) = statements
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Ref": "HubPrincipalArn"}}
    actions = statement["Action"]
    actions = [actions] if isinstance(actions, str) else actions
    assert "sts:AssumeRole" in actions
    assert set(actions) <= {"sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}


def test_readonly_role_name_defaults_to_contract() -> None:
    template = load_template(DEPLOY / "cloudformation" / "readonly-role.yaml")
    assert template["Parameters"]["RoleName"]["Default"] == "LambdaWhyReadOnly"
    assert role_resource(template)["RoleName"] == {"Ref": "RoleName"}


@pytest.mark.parametrize("path", ASSUMED, ids=lambda p: p.name)
def test_grants_only_named_read_actions(path: Path) -> None:
    template = load_template(path)
    actions = granted_actions(template)
    assert actions, "the role grants nothing"
    wildcards = sorted(a for a in actions if "*" in a or "?" in a)
    assert wildcards == [], "name every action; no wildcards"
    for action in sorted(actions):
        try:
            level = access_level(action)
        except KeyError:
            pytest.fail(f"{action} is not an IAM action")
        assert level in {"Read", "List"}, f"{action} is a {level} action"
    assert actions & DATA_READS <= ALLOWED_DATA_READS
    for policy in role_resource(template)["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement
            assert "NotResource" not in statement


def test_org_reader_reads_only_organizations(org_reader_template: dict[str, Any]) -> None:
    """Organizations reads, and the management account's event history (SCP changes)."""
    actions = granted_actions(org_reader_template)
    assert {a for a in actions if not a.startswith("organizations:")} == {"cloudtrail:LookupEvents"}
    assert org_reader_template["Parameters"]["RoleName"]["Default"] == "LambdaWhyOrgReader"


HUB_PARAMETERS = {
    "ReadOnlyRoleName": "LambdaWhyReadOnly",
    "OrgReaderRoleArn": "arn:aws:iam::999999999999:role/LambdaWhyOrgReader",
}


@pytest.mark.parametrize("org_reader", [True, False])
@pytest.mark.parametrize("support_cases", [True, False])
def test_hub_role_may_only_assume_the_read_only_roles(
    org_reader: bool, support_cases: bool
) -> None:
    template = load_template(DEPLOY / "cloudformation" / "hub-role.yaml")
    conditions = {"HasOrgReader": org_reader, "SupportCases": support_cases, "OnEc2": False}
    (policy,) = role_policies(template, HUB_PARAMETERS, conditions)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assume = statements.pop("AssumeReadOnlyRoles")
    assert assume["Action"] == "sts:AssumeRole"
    expected = ["arn:aws:iam::*:role/LambdaWhyReadOnly"]
    if org_reader:
        expected.append(HUB_PARAMETERS["OrgReaderRoleArn"])
    assert assume["Resource"] == expected
    if support_cases:
        assert statements.pop("OpenSupportCases")["Action"] == "support:CreateCase"
    assert statements == {}
    assert template["Parameters"]["ReadOnlyRoleName"]["Default"] == "LambdaWhyReadOnly"
    assert template["Parameters"]["OpenSupportCases"]["Default"] == "false"


def test_deploy_guide_explains_every_granted_action() -> None:
    guide = (DEPLOY.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    template = load_template(DEPLOY / "cloudformation" / "readonly-role.yaml")
    undocumented = sorted(a for a in granted_actions(template) if f"`{a}`" not in guide)
    assert undocumented == [], "add these to the action table of docs/deploy.md"
