"""AwsAccess: read-only hook, call recording, identity, caches, unavailability, gaps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.aws import collect as collect_module
from bot.aws.access import (
    AwsAccess,
    CallRecorder,
    TtlCache,
    install_read_only_hook,
    is_read_operation,
    session_name,
)
from bot.aws.errors import AwsUnavailable, ReadOnlyViolation
from bot.config import FileConfig, Settings
from tests.aws.conftest import ACCOUNT, REGION, make_access, seed_function

collect = partial(collect_module.collect, late_collectors=())


@pytest.mark.parametrize(
    ("operation", "allowed"),
    [
        ("lambda:GetFunction", True),
        ("lambda:ListEventSourceMappings", True),
        ("ec2:DescribeSubnets", True),
        ("cloudtrail:LookupEvents", True),
        ("logs:FilterLogEvents", True),
        ("sts:AssumeRole", True),
        ("sts:GetCallerIdentity", True),
        ("iam:GetAccountAuthorizationDetails", True),
        ("s3:HeadBucket", True),
        ("lambda:AddPermission", False),
        ("lambda:RemovePermission", False),
        ("lambda:InvokeFunction", False),
        ("lambda:UpdateFunctionConfiguration", False),
        ("iam:AttachRolePolicy", False),
        ("iam:PutRolePolicy", False),
        ("sqs:SendMessage", False),
        ("sqs:ReceiveMessage", False),
        ("kms:Decrypt", False),
        ("secretsmanager:GetSecretValue", False),
        ("ssm:GetParameter", False),
        ("s3:GetObject", False),
        ("sts:GetSessionToken", False),
    ],
)
def test_is_read_operation(operation: str, allowed: bool) -> None:
    assert is_read_operation(operation) is allowed


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("U024BE7LH", "lambda-why-U024BE7LH"),
        ("alice@example.com", "lambda-why-alice@example.com"),
        ("Jane Doe/ops", "lambda-why-Jane-Doe-ops"),
        (None, "lambda-why"),
        ("", "lambda-why"),
        ("x" * 100, "lambda-why-" + "x" * 53),
    ],
)
def test_session_name(who: str | None, expected: str) -> None:
    name = session_name(who)
    assert name == expected
    assert 2 <= len(name) <= 64


async def test_hook_refuses_writes_before_sending(moto: None) -> None:
    seed_function()
    access = make_access()
    client = await access.client("lambda", account=ACCOUNT, region=REGION)
    with pytest.raises(ReadOnlyViolation, match="refused to call lambda:AddPermission"):
        client.add_permission(
            FunctionName="orders",
            StatementId="evil",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
    policy = boto3.client("lambda", region_name=REGION).get_policy(FunctionName="orders")
    assert "evil" not in policy["Policy"]
    assert "lambda:AddPermission" not in access.recorder.calls
    iam = await access.client("iam", account=ACCOUNT, region=REGION)
    with pytest.raises(ReadOnlyViolation):
        iam.delete_role(RoleName="orders-role")


async def test_hook_on_a_plain_client(moto: None) -> None:
    recorder = CallRecorder()
    client = boto3.client("sqs", region_name=REGION)
    install_read_only_hook(client, recorder)
    client.list_queues()
    with pytest.raises(ReadOnlyViolation):
        client.create_queue(QueueName="x")
    assert recorder.calls == {"sqs:ListQueues": 1}


async def test_identity_cached_and_calls_recorded(moto: None) -> None:
    access = make_access()
    first = await access.own_identity()
    second = await access.own_identity()
    assert first == second
    assert first.account == ACCOUNT
    assert first.partition == "aws"
    assert access.recorder.calls["sts:GetCallerIdentity"] == 1


async def test_warm_cache_cuts_calls_and_fresh_bypasses(moto: None) -> None:
    seed_function()
    access = make_access()
    await collect(access, "orders")
    cold = access.recorder.reset()
    await collect(access, "orders")
    warm = access.recorder.reset()
    await collect(access, "orders", fresh=True)
    fresh = access.recorder.reset()
    assert sum(warm.values()) < sum(cold.values())
    assert "iam:GetRole" not in warm
    assert "iam:GetPolicyVersion" not in warm
    assert "iam:ListPolicies" not in warm
    assert warm["lambda:GetFunction"] == 1
    assert warm["lambda:GetPolicy"] == 1
    assert "sts:GetCallerIdentity" not in warm
    assert fresh["iam:GetRole"] == 1
    # default versions of the account's attached customer policies, in one listing
    assert fresh["iam:ListPolicies"] == 1
    assert "iam:GetPolicy" not in fresh
    # policy versions are immutable: kept even on a fresh read
    assert "iam:GetPolicyVersion" not in fresh


async def test_warm_cache_sees_changes_after_ttl(moto: None) -> None:
    seed_function()
    access = make_access(cache_ttl=0.0)
    await collect(access, "orders")
    boto3.client("iam").put_role_policy(
        RoleName="orders-role",
        PolicyName="added",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    )
    snap = await collect(access, "orders")
    assert snap.role is not None
    assert {p.name for p in snap.role.inline_policies} == {
        "orders-role/inline-ddb",
        "orders-role/added",
    }


def test_ttl_cache_expiry() -> None:
    now = [100.0]
    cache = TtlCache(clock=lambda: now[0])
    cache.put("k", "v", 10)
    assert cache.get("k") == "v"
    now[0] = 110.0
    assert cache.get("k") is None
    assert len(cache) == 0


async def test_no_credentials_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    access = AwsAccess(
        Settings(_env_file=None),  # type: ignore[call-arg]
        FileConfig(),
        base_session=boto3.Session(region_name=REGION),
    )
    with pytest.raises(AwsUnavailable, match="NoCredentialsError"):
        await access.own_identity()


async def test_unreachable_endpoint_is_unavailable(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from botocore.config import Config

    access = make_access(
        botocore_config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    )
    with pytest.raises(AwsUnavailable, match="AWS could not be reached"):
        await access.own_identity()


class _NotAws(BaseHTTPRequestHandler):
    """An endpoint that answers, but not as AWS: an empty 200 (a captive proxy)."""

    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def not_aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


async def test_a_reply_that_is_not_aws_is_unavailable_in_one_line(not_aws: None) -> None:
    from botocore.config import Config

    access = make_access(
        botocore_config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    )
    with pytest.raises(AwsUnavailable, match="AWS could not be reached") as info:
        await access.own_identity()
    assert "\n" not in str(info.value)
    assert "ResponseParserError" in str(info.value)


def deny(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    """Make `operation` on this client fail like AWS does when IAM denies it."""

    def refuse(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": code,
                    "Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/LambdaWhyReadOnly/x "
                    f"is not authorized to perform: {operation}",
                }
            },
            operation.split(":")[1],
        )

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation.split(':')[1]}", refuse)


async def test_access_denied_reads_become_gaps(moto: None) -> None:
    seeded = seed_function()
    access = make_access()
    lam = await access.client("lambda", account=ACCOUNT, region=REGION)
    iam = await access.client("iam", account=ACCOUNT, region=REGION)
    sqs = await access.client("sqs", account=ACCOUNT, region=REGION)
    deny(lam, "lambda:GetPolicy")
    deny(iam, "iam:GetPolicyVersion", "AccessDenied")
    deny(sqs, "sqs:GetQueueAttributes", "AccessDenied")
    snap = await collect(access, "orders")
    gap = snap.gap_for("lambda:GetPolicy", seeded.function_arn)
    assert gap is not None
    assert gap.error.startswith("AccessDeniedException: User: ")
    assert snap.resource_policy is None
    assert snap.role is not None
    assert all(p.document is None for p in snap.role.attached_policies)
    assert {g.resource for g in snap.gaps if g.operation == "iam:GetPolicyVersion"} == set(
        seeded.policy_arns
    )
    [mapping] = snap.event_source_mappings
    assert mapping.source.exists is None
    assert snap.gap_for("sqs:GetQueueAttributes", seeded.queue_arn) is not None


async def test_gaps_are_not_cached(moto: None) -> None:
    seed_function()
    access = make_access()
    iam = await access.client("iam", account=ACCOUNT, region=REGION)
    deny(iam, "iam:GetRole", "AccessDenied")
    first = await collect(access, "orders")
    assert first.role is not None
    assert first.role.exists is False
    iam.meta.events.unregister("before-call.iam.GetRole")
    # a fresh client list: drop the denying hook by building a new access sharing nothing
    second = await collect(make_access(), "orders")
    assert second.role is not None
    assert second.role.exists is True
    assert access.cache.get(("iam-role", first.function.role_arn)) is None


async def test_get_function_denied_is_unavailable(moto: None) -> None:
    seed_function()
    access = make_access()
    lam = await access.client("lambda", account=ACCOUNT, region=REGION)
    deny(lam, "lambda:GetFunction")
    with pytest.raises(AwsUnavailable, match=r"cannot read function .*AccessDeniedException"):
        await collect(access, "orders")


async def test_requester_view_shares_caches(moto: None) -> None:
    seed_function()
    access = make_access(requested_by="U1")
    await collect(access, "orders")
    view = access.as_requester("U2")
    assert view.requested_by == "U2"
    assert access.requested_by == "U1"
    assert view.recorder is access.recorder
    assert view.cache is access.cache
    before = access.recorder.total
    snap = await collect(view, "orders")
    assert snap.requested_by == "U2"
    assert access.recorder.calls["sts:GetCallerIdentity"] == 1
    assert access.recorder.total - before == 4


async def test_client_factory_for_reached_account(moto: None) -> None:
    access = make_access()
    with pytest.raises(AwsUnavailable, match="no credentials resolved"):
        access.client_factory("logs", account=ACCOUNT)
    await access.own_identity()
    make = access.client_factory("logs", account=ACCOUNT)
    client = make(REGION)
    client.describe_log_groups()
    assert access.recorder.calls["logs:DescribeLogGroups"] == 1
    with pytest.raises(ReadOnlyViolation):
        client.create_log_group(logGroupName="x")
