"""Every check on hand-written snapshot fixtures: each root cause found, healthy ones clean."""

from __future__ import annotations

import pytest

from bot.checks import build_report, run_checks
from bot.report import Finding, Status
from tests.checks.conftest import FIXTURES, load

ROLE = "arn:aws:iam::111111111111:role/orders-role"

#: fixture -> (check, status, principal, actions that must be named, denied_by)
CASES: dict[str, tuple[str, Status, str | None, set[str], list[str]]] = {
    "broken_trust_wrong_service": (
        "execution-role-trust",
        Status.FAIL,
        "lambda.amazonaws.com",
        {"sts:AssumeRole"},
        ["resource"],
    ),
    "broken_trust_condition": (
        "execution-role-trust",
        Status.FAIL,
        "lambda.amazonaws.com",
        {"sts:AssumeRole"},
        ["resource"],
    ),
    "broken_role_missing": (
        "execution-role-trust",
        Status.FAIL,
        "lambda.amazonaws.com",
        {"sts:AssumeRole"},
        ["resource"],
    ),
    "broken_logs_wrong_group": (
        "log-delivery",
        Status.FAIL,
        ROLE,
        {"logs:CreateLogStream", "logs:PutLogEvents"},
        ["identity"],
    ),
    "broken_logs_identity_deny": (
        "log-delivery",
        Status.FAIL,
        ROLE,
        {"logs:PutLogEvents"},
        ["identity"],
    ),
    "broken_vpc_identity": (
        "vpc-eni",
        Status.FAIL,
        ROLE,
        {
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface",
        },
        ["identity"],
    ),
    "broken_vpc_scp": ("vpc-eni", Status.FAIL, ROLE, {"ec2:CreateNetworkInterface"}, ["scp"]),
    "broken_vpc_scp_allow_list": (
        "vpc-eni",
        Status.FAIL,
        ROLE,
        {"ec2:CreateNetworkInterface"},
        ["scp"],
    ),
    "broken_vpc_boundary": (
        "vpc-eni",
        Status.FAIL,
        ROLE,
        {"ec2:CreateNetworkInterface"},
        ["boundary"],
    ),
    "broken_sqs_permissions": (
        "event-source",
        Status.FAIL,
        ROLE,
        {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
        ["identity"],
    ),
    "broken_sqs_cross_account": (
        "event-source",
        Status.FAIL,
        ROLE,
        {"sqs:ReceiveMessage"},
        ["resource"],
    ),
    "broken_kinesis_key_policy": ("event-source", Status.FAIL, ROLE, {"kms:Decrypt"}, ["resource"]),
    "broken_s3_wrong_source": (
        "invoke-permission",
        Status.FAIL,
        "s3.amazonaws.com",
        {"lambda:InvokeFunction"},
        ["resource"],
    ),
    "broken_sns_no_policy": (
        "invoke-permission",
        Status.FAIL,
        "sns.amazonaws.com",
        {"lambda:InvokeFunction"},
        ["resource"],
    ),
    "broken_function_url": (
        "function-url",
        Status.FAIL,
        "*",
        {"lambda:InvokeFunctionUrl"},
        ["resource"],
    ),
    "broken_env_kms_role": ("env-kms", Status.FAIL, ROLE, {"kms:Decrypt"}, ["identity"]),
    "broken_env_kms_key_policy": ("env-kms", Status.FAIL, ROLE, {"kms:Decrypt"}, ["resource"]),
    "broken_dlq": ("destinations", Status.FAIL, ROLE, {"sqs:SendMessage"}, ["identity"]),
    "broken_xray": (
        "xray",
        Status.FAIL,
        ROLE,
        {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
        ["identity"],
    ),
    "broken_efs_policy": (
        "efs-mount",
        Status.FAIL,
        ROLE,
        {"elasticfilesystem:ClientMount"},
        ["identity", "resource"],
    ),
    "warn_typo_action": (
        "unknown-actions",
        Status.WARN,
        ROLE,
        {"lambda:InvokeFunctions"},
        [],
    ),
    "warn_public_invoke": ("invoke-permission", Status.WARN, "*", {"lambda:InvokeFunction"}, []),
    "unknown_policy_unreadable": ("log-delivery", Status.UNKNOWN, ROLE, set(), []),
    "unknown_role_unreadable": (
        "execution-role-trust",
        Status.UNKNOWN,
        "lambda.amazonaws.com",
        {"sts:AssumeRole"},
        [],
    ),
}

HEALTHY = sorted(p.stem for p in FIXTURES.glob("healthy_*.json"))


def _find(findings: list[Finding], check: str, status: Status) -> Finding:
    matching = [f for f in findings if f.check == check and f.status is status]
    assert matching, [(f.check, f.status.value, f.title) for f in findings]
    return matching[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_root_cause_found(name: str) -> None:
    check, status, principal, actions, denied_by = CASES[name]
    finding = _find(run_checks(load(name)), check, status)
    assert finding.principal == principal
    assert actions <= set(finding.actions)
    assert finding.denied_by == denied_by
    if status is Status.FAIL:
        assert finding.fix is not None
        assert finding.fix.summary
        assert finding.fix.commands
        assert finding.severity.value in ("high", "medium")
    if status is Status.UNKNOWN:
        assert "could not" in finding.detail.lower() or "not read" in finding.detail.lower()


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_fixture_has_only_the_expected_failures(name: str) -> None:
    check, status, _, _, _ = CASES[name]
    report = build_report(load(name))
    fails = {f.check for f in report.findings if f.status is Status.FAIL}
    if status is Status.FAIL:
        assert fails == {check}
    else:
        assert fails == set()


def test_fixture_table_covers_every_broken_fixture() -> None:
    on_disk = {p.stem for p in FIXTURES.glob("*.json")} - set(HEALTHY)
    assert on_disk == set(CASES)


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_functions_get_no_fail(name: str) -> None:
    report = build_report(load(name))
    bad = [(f.check, f.title, f.detail) for f in report.findings if f.status is Status.FAIL]
    assert bad == []
    assert report.summary.fail == 0
    assert report.summary.pass_ >= 2


def test_healthy_full_passes_every_applicable_check() -> None:
    report = build_report(load("healthy_full"))
    checks = {f.check for f in report.findings if f.status is Status.PASS}
    assert {
        "execution-role-trust",
        "log-delivery",
        "vpc-eni",
        "event-source",
        "invoke-permission",
        "function-url",
        "env-kms",
        "destinations",
        "xray",
    } <= checks
    assert all(f.status is Status.PASS for f in report.findings)
    assert report.notes == [
        "Triggers were found from the function's side only (resource policy, event source "
        "mappings, EventBridge rules, SNS subscriptions); use --scan-triggers to scan every S3 "
        "bucket and API in the region"
    ]
