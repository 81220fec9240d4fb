"""collect(): a whole function read from moto (in-process)."""

from __future__ import annotations

import json
from functools import partial

import boto3
import pytest

from bot.aws import collect as collect_module
from bot.aws.errors import AccountNotAllowed, BadFunctionRef, FunctionNotFound
from bot.snapshot import REDACTED, Snapshot
from tests.aws.conftest import ACCOUNT, REGION, make_access, seed_function

#: the AWS collectors alone (CloudTrail and other late collectors have their own tests)
collect = partial(collect_module.collect, late_collectors=())


async def test_collect_reads_function_role_policy_and_mapping(moto: None) -> None:
    seeded = seed_function()
    access = make_access(requested_by="U024BE7LH")
    snap = await collect(access, "orders")

    assert snap.account == ACCOUNT
    assert snap.region == REGION
    assert snap.requested_by == "U024BE7LH"
    assert snap.function.arn == seeded.function_arn
    assert snap.function.role_arn == seeded.role_arn
    assert snap.function.environment == {"DB_PASSWORD": REDACTED, "STAGE": REDACTED}
    assert snap.function.logging.log_group == "/aws/lambda/orders"
    assert snap.resource_policy is not None
    [statement] = snap.resource_policy["Statement"]
    assert statement["Sid"] == "s3-invoke"
    assert snap.role is not None
    assert snap.role.exists
    assert snap.role.trust_policy is not None
    assert snap.role.trust_policy["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    assert sorted(p.arn or "" for p in snap.role.attached_policies) == sorted(seeded.policy_arns)
    assert all(p.document is not None and p.version_id == "v1" for p in snap.role.attached_policies)
    [inline] = snap.role.inline_policies
    assert inline.name == "orders-role/inline-ddb"
    assert inline.document is not None
    [mapping] = snap.event_source_mappings
    assert mapping.source.arn == seeded.queue_arn
    assert mapping.source.type == "sqs"
    assert snap.window_start is not None
    assert snap.window_end is not None
    assert snap.gaps == []


async def test_secret_values_never_in_snapshot(moto: None) -> None:
    seed_function(env={"API_TOKEN": "sk-live-very-secret-value"})
    snap = await collect(make_access(), "orders")
    dumped = snap.model_dump_json()
    assert "sk-live-very-secret-value" not in dumped
    assert snap.function.environment == {"API_TOKEN": REDACTED}


async def test_snapshot_json_round_trip(moto: None) -> None:
    seed_function()
    snap = await collect(make_access(), "arn:aws:lambda:us-east-1:123456789012:function:orders")
    again = Snapshot.model_validate_json(snap.model_dump_json())
    assert again == snap
    assert json.loads(snap.model_dump_json())["function"]["name"] == "orders"


async def test_function_not_found(moto: None) -> None:
    seed_function()
    with pytest.raises(FunctionNotFound, match=r"function nope not found in account 123456789012"):
        await collect(make_access(), "nope")


async def test_qualifier_not_found(moto: None) -> None:
    seed_function()
    with pytest.raises(FunctionNotFound, match="orders:live"):
        await collect(make_access(), "orders:live")


async def test_bad_reference(moto: None) -> None:
    with pytest.raises(BadFunctionRef):
        await collect(make_access(), "arn:aws:s3:::bucket")


async def test_other_account_not_configured(moto: None) -> None:
    with pytest.raises(AccountNotAllowed, match="222222222222"):
        await collect(make_access(), "arn:aws:lambda:us-east-1:222222222222:function:orders")


async def test_missing_role_is_a_gap(moto: None) -> None:
    seed_function()
    iam = boto3.client("iam")
    role = "orders-role"
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=p["PolicyArn"])
    iam.delete_role_policy(RoleName=role, PolicyName="inline-ddb")
    iam.delete_role(RoleName=role)
    snap = await collect(make_access(), "orders")
    assert snap.role is not None
    assert snap.role.exists is False
    gap = snap.gap_for("iam:GetRole")
    assert gap is not None
    assert "NoSuchEntity" in gap.error


async def test_managed_policy_defaults_listed_once(moto: None) -> None:
    """Two policies read concurrently share one ListPolicies call."""
    seeded = seed_function()
    access = make_access()
    snap = await collect(access, "orders")
    assert access.recorder.calls["iam:ListPolicies"] == 1
    assert "iam:GetPolicy" not in access.recorder.calls
    assert snap.role is not None
    assert {p.arn for p in snap.role.attached_policies} == set(seeded.policy_arns)


async def test_policy_missing_from_listing_falls_back_to_get_policy(moto: None) -> None:
    """A policy attached after the account listing was cached is read with GetPolicy."""
    seeded = seed_function()
    access = make_access()
    access.cache.put(("iam-attached-policies", ACCOUNT), {}, 60)  # listed before attaching
    snap = await collect(access, "orders")
    assert access.recorder.calls["iam:GetPolicy"] == 2
    assert "iam:ListPolicies" not in access.recorder.calls
    assert snap.role is not None
    assert {p.arn for p in snap.role.attached_policies} == set(seeded.policy_arns)
    assert all(p.document is not None for p in snap.role.attached_policies)
    assert snap.gaps == []


async def test_aws_managed_policy_uses_get_policy(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_function()
    from bot.aws.iam import read_managed_policy
    from bot.aws.reader import Reader

    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    policy = await read_managed_policy(
        reader, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    # moto loads AWS managed policies only on request: here it is unknown, which is a gap
    assert policy.kind == "aws-managed"
    assert policy.document is None
    assert reader.gaps
    assert reader.gaps[0].operation == "iam:GetPolicy"


async def test_late_collectors_fill_and_fail_as_gaps(moto: None) -> None:
    seed_function()
    seen: list[str] = []

    async def fills(ctx: collect_module.CollectContext) -> None:
        seen.append(ctx.snapshot.function.name)
        assert ctx.window_start < ctx.window_end

    async def breaks(ctx: collect_module.CollectContext) -> None:
        raise KeyError("Events")

    snap = await collect_module.collect(
        make_access(), "orders", late_collectors=(fills, breaks, fills)
    )
    assert seen == ["orders", "orders"]
    [gap] = snap.gaps
    assert gap.operation.startswith("lambda-why:tests.aws.test_collect.")
    assert gap.operation.endswith("breaks")
    assert gap.error == "KeyError: 'Events'"


async def test_secret_env_values_printed_by_the_code_are_scrubbed_from_logs(
    moto: None,
) -> None:
    """bugs.md: a value the code logs verbatim (no key=value shape) is redacted at
    collection time; resource names in other variables stay readable."""
    from datetime import UTC, datetime

    from bot.aws import logs as logs_
    from bot.snapshot import REDACTED

    seed_function(env={"DB_PASSWORD": "hunter2-prod-Zq8", "TABLE_NAME": "orders-table"})
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="s1")
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/orders",
        logStreamName="s1",
        logEvents=[
            {"timestamp": now - 2000, "message": "connecting as payroll with hunter2-prod-Zq8"},
            {
                "timestamp": now - 1000,
                "message": "AccessDeniedException: not authorized to perform: "
                "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:"
                "table/orders-table",
            },
        ],
    )
    snap = await collect_module.collect(make_access(), "orders", late_collectors=(logs_.collect,))
    text = " ".join(line.message for line in snap.logs)
    assert "hunter2-prod-Zq8" not in text
    assert "table/orders-table" in text
    assert f"connecting as payroll with {REDACTED}" in text
    assert "hunter2-prod-Zq8" not in snap.model_dump_json()
