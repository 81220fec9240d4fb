"""invoke-permission on variants of `healthy_full`: source account, qualifiers, shapes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.checks import build_report, run_checks
from bot.report import Finding, Status
from bot.snapshot import Gap, Snapshot, Trigger
from tests.checks.conftest import load

FN = "arn:aws:lambda:us-east-1:111111111111:function:orders"


def _invoke(snapshot: Snapshot) -> list[Finding]:
    return [f for f in run_checks(snapshot) if f.check == "invoke-permission"]


def _statement(**overrides: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "Sid": "s3-invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FN,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "111111111111"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::orders-uploads"},
        },
    }
    stmt.update(overrides)
    return stmt


def _with_policy(*statements: dict[str, Any]) -> Snapshot:
    snap = load("healthy_full")
    snap.resource_policy = {"Version": "2012-10-17", "Statement": list(statements)}
    snap.function_urls = []
    return snap


def test_s3_permission_for_another_source_account_fails() -> None:
    """S3 sends the bucket owner as aws:SourceAccount; a permission copied from another
    account (right bucket, wrong account) does not match it."""
    snap = _with_policy(
        _statement(
            Condition={
                "StringEquals": {"AWS:SourceAccount": "999999999999"},
                "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::orders-uploads"},
            }
        )
    )
    [finding] = _invoke(snap)
    assert finding.status is Status.FAIL
    assert finding.principal == "s3.amazonaws.com"
    assert finding.source == "arn:aws:s3:::orders-uploads"
    assert finding.denied_by == ["resource"]
    assert "account 999999999999" in finding.detail or "999999999999" in finding.detail
    assert finding.fix is not None
    assert "--source-account 111111111111" in finding.fix.commands[-1]


def _s3_trigger(target: str) -> Trigger:
    return Trigger(
        service="s3",
        principal="s3.amazonaws.com",
        source_arn="arn:aws:s3:::orders-uploads",
        source_account="111111111111",
        name="orders-uploads",
        discovered_by="lambda:GetPolicy",
        detail={"target": target},
    )


def test_trigger_on_an_alias_needs_the_alias_permission() -> None:
    """A permission on the unqualified function does not let S3 invoke `:live`."""
    snap = _with_policy(_statement())
    snap.triggers = [_s3_trigger(FN + ":live")]
    snap.qualifier_policies = {FN + ":live": None}
    [finding] = _invoke(snap)
    assert finding.status is Status.FAIL
    assert finding.resources == [FN + ":live"]
    assert "orders:live has no resource-based policy" in finding.detail
    assert "--qualifier" in finding.detail
    assert finding.fix is not None
    assert "--qualifier live" in finding.fix.commands[-1]
    assert finding.fix.policy is not None
    assert finding.fix.policy["Statement"][0]["Resource"] == FN + ":live"


def test_trigger_on_an_alias_passes_on_the_alias_policy() -> None:
    snap = _with_policy()
    snap.resource_policy = None
    snap.triggers = [_s3_trigger(FN + ":live")]
    snap.qualifier_policies = {
        FN + ":live": {"Version": "2012-10-17", "Statement": [_statement(Resource=FN + ":live")]}
    }
    [finding] = _invoke(snap)
    assert finding.status is Status.PASS
    assert finding.evidence[0].policy == f"resource policy of {FN}:live"


def test_alias_policy_read_failure_is_unknown_not_pass() -> None:
    snap = _with_policy(_statement())
    snap.triggers = [_s3_trigger(FN + ":live")]
    snap.qualifier_policies = {FN + ":live": None}
    snap.gaps.append(
        Gap(operation="lambda:GetPolicy", resource=FN + ":live", error="AccessDeniedException")
    )
    [finding] = _invoke(snap)
    assert finding.status is Status.UNKNOWN
    # the unqualified policy itself was read: other triggers are still decided
    snap.triggers.append(_s3_trigger(FN))
    statuses = sorted(f.status.value for f in _invoke(snap))
    assert statuses == ["pass", "unknown"]


def test_checking_an_alias_uses_its_own_policy() -> None:
    """`check function:orders:live`: the policy read (GetPolicy Qualifier=live) governs
    triggers aimed at `:live`; one aimed at the function uses the function's policy."""
    snap = _with_policy(_statement(Resource=FN + ":live"))
    snap.function.qualifier = "live"
    snap.triggers = [_s3_trigger(FN + ":live"), _s3_trigger(FN)]
    snap.qualifier_policies = {FN: None}
    by_target = {f.resources[0]: f for f in _invoke(snap)}
    live, base = by_target[FN + ":live"], by_target[FN]
    assert (live.resources, live.status) == ([FN + ":live"], Status.PASS)
    assert (base.resources, base.status) == ([FN], Status.FAIL)
    assert "has no resource-based policy" in base.detail
    report = build_report(snap)
    assert report.summary.fail == 1


API = "arn:aws:execute-api:us-east-1:111111111111:abc123"


def _api_trigger(path: str = "/*/GET/orders") -> Trigger:
    return Trigger(
        service="apigateway",
        principal="apigateway.amazonaws.com",
        source_arn=API + path,
        name="orders-api",
        discovered_by="apigateway:GetRestApis",
        detail={"target": FN},
    )


def _api_statement(source: str) -> dict[str, Any]:
    return _statement(
        Sid="apigw",
        Principal={"Service": "apigateway.amazonaws.com"},
        Condition={"ArnLike": {"AWS:SourceArn": source}},
    )


@pytest.mark.parametrize(
    "source",
    [
        API + "/*/GET/orders",
        API + "/*/*/orders",
        API + "/*/*",
        API + "/*",
        API + "/prod/GET/orders",  # stage-scoped: works through that stage
        API + "/prod/*/*",
    ],
)
def test_api_gateway_permission_shapes_pass(source: str) -> None:
    snap = _with_policy(_api_statement(source))
    snap.triggers = [_api_trigger()]
    [finding] = _invoke(snap)
    assert finding.status is Status.PASS, finding.detail
    if "/prod/" in source:
        assert "stage prod only" in finding.detail


@pytest.mark.parametrize(
    "source",
    [API.replace("abc123", "zzz999") + "/*/GET/orders", API + "/*/POST/orders"],
)
def test_api_gateway_permission_for_another_api_or_method_fails(source: str) -> None:
    snap = _with_policy(_api_statement(source))
    snap.triggers = [_api_trigger()]
    [finding] = _invoke(snap)
    assert finding.status is Status.FAIL


@pytest.mark.parametrize(
    "principal",
    [
        {"Service": "s3.amazonaws.com"},
        {"Service": ["s3.amazonaws.com"]},
        "s3.amazonaws.com",  # moto stores add-permission's Principal verbatim
    ],
)
def test_service_principal_shapes_pass(principal: Any) -> None:
    snap = _with_policy(_statement(Principal=principal))
    [finding] = _invoke(snap)
    assert finding.status is Status.PASS


def test_real_add_permission_shape_with_source_account_passes() -> None:
    """`aws lambda add-permission --source-arn --source-account` as AWS returns it."""
    snap = _with_policy(
        _statement(
            Condition={
                "StringEquals": {"AWS:SourceAccount": "111111111111"},
                "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::orders-uploads"},
            }
        )
    )
    assert [f.status for f in _invoke(snap)] == [Status.PASS]


def test_function_without_triggers_has_no_invoke_findings() -> None:
    snap = _with_policy()
    snap.resource_policy = None
    snap.triggers = []
    assert _invoke(snap) == []
    assert build_report(snap).summary.fail == 0
