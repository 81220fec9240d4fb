"""End to end: moto for everything, the fake CloudTrail endpoint for LookupEvents.

A function whose S3 invoke permission was removed: `check --json` must list the
RemovePermission in `events` and tie the failing invoke finding to it; `history` shows it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.demo.moto import DEFAULT_ACCOUNT, MotoEndpoint, moto_server
from tests.cloudtrail import records as r
from tests.cloudtrail.fake_cloudtrail import FakeCloudTrail

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "orders"
BUCKET = "orders-upload"
SID = "s3-orders-upload"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass
class World:
    moto: MotoEndpoint
    function_arn: str
    home: Path


def _seed(endpoint: str) -> str:
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name="us-east-1",
    )
    iam = session.client("iam", endpoint_url=endpoint)
    role = iam.create_role(RoleName=f"{FUNCTION}-role", AssumeRolePolicyDocument=json.dumps(TRUST))[
        "Role"
    ]["Arn"]
    iam.attach_role_policy(RoleName=f"{FUNCTION}-role", PolicyArn=BASIC)
    lam = session.client("lambda", endpoint_url=endpoint)
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    arn: str = lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    # granted, wired up, then the permission was removed: what CloudTrail will tell
    lam.add_permission(
        FunctionName=FUNCTION,
        StatementId=SID,
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{BUCKET}",
        SourceAccount=DEFAULT_ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "orders", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    lam.remove_permission(FunctionName=FUNCTION, StatementId=SID)
    return arn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("ct-e2e")
    for name in ("aws-config", "aws-credentials"):
        (home / name).write_text("", encoding="utf-8")
    with moto_server() as endpoint:
        yield World(endpoint, _seed(endpoint.endpoint_url), home)


@pytest.fixture
async def trail() -> AsyncIterator[FakeCloudTrail]:
    now = datetime.now(UTC).replace(microsecond=0)
    fake = FakeCloudTrail(
        [
            r.add_permission(
                FUNCTION,
                SID,
                principal="s3.amazonaws.com",
                source_arn=f"arn:aws:s3:::{BUCKET}",
                time=now - timedelta(hours=20),
                account=DEFAULT_ACCOUNT,
            ),
            r.remove_permission(
                FUNCTION, SID, time=now - timedelta(hours=2), account=DEFAULT_ACCOUNT
            ),
        ]
    )
    await fake.start()
    yield fake
    await fake.close()


async def lambda_why(args: list[str], world: World, trail: FakeCloudTrail) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(world.home),
        "PYTHONPATH": str(ROOT),
        "AWS_CONFIG_FILE": str(world.home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(world.home / "aws-credentials"),
        "NO_COLOR": "1",
        **world.moto.client_env(),
        "AWS_ENDPOINT_URL_CLOUDTRAIL": trail.url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=world.home,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    return proc.returncode or 0, out.decode(), err.decode()


def _remove_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    found = [e for e in events if e["event"] == "RemovePermission"]
    assert found, events
    return found[0]


async def test_check_ties_failing_invoke_finding_to_remove_permission(
    world: World, trail: FakeCloudTrail
) -> None:
    code, out, err = await lambda_why(
        ["check", world.function_arn, "--json", "--scan-triggers"], world, trail
    )
    assert code == 1, err
    doc = json.loads(out)
    event = _remove_event(doc["events"])
    assert event["actor"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/deployer/alice"
    assert event["source_ip"] == "203.0.113.5"
    assert event["error"] is None
    assert event["summary"].startswith(f"removed invoke permission {SID}")
    assert not [g for g in doc["gaps"] if g["operation"] == "cloudtrail:LookupEvents"]
    invoke = [
        f
        for f in doc["findings"]
        if f["status"] == "fail" and "lambda:InvokeFunction" in f["actions"]
    ]
    assert invoke, doc["findings"]
    finding = invoke[0]
    assert finding["principal"] == "s3.amazonaws.com"
    assert finding["related_events"][0]["event"] == "RemovePermission"
    assert "Likely cause: alice (arn:aws:sts::" in finding["detail"]
    assert f"removed invoke permission {SID}" in finding["detail"]
    assert {c["region"] for c in trail.calls} == {"us-east-1"}


async def test_history_shows_the_removal(world: World, trail: FakeCloudTrail) -> None:
    code, out, err = await lambda_why(
        ["history", world.function_arn, "--since", "7d", "--json"], world, trail
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"function", "since", "until", "events", "gaps"}
    assert doc["function"] == world.function_arn
    assert [e["event"] for e in doc["events"]] == ["RemovePermission", "AddPermission"]
    assert doc["gaps"] == []
    code, out, err = await lambda_why(["history", FUNCTION], world, trail)
    assert code == 0, err
    line = next(x for x in out.splitlines() if "RemovePermission" in x)
    assert "from 203.0.113.5" in line
    assert f"removed invoke permission {SID}" in line


async def test_history_bad_input_and_unknown_function(world: World, trail: FakeCloudTrail) -> None:
    code, _, err = await lambda_why(["history", "not a function!"], world, trail)
    assert code == 2
    assert err.startswith("lambda-why: ")
    code, _, err = await lambda_why(["history", "nope", "--since", "soon"], world, trail)
    assert code == 2
    assert "invalid duration" in err
    code, _, err = await lambda_why(["history", "does-not-exist"], world, trail)
    assert code == 2
    assert "not found" in err


# -- the demo's broken scenarios, each with the change that broke it in CloudTrail -----------


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, str]]]:
    from bot.demo.scenarios import seed_sync

    home = tmp_path_factory.mktemp("ct-e2e-scenarios")
    for name in ("aws-config", "aws-credentials"):
        (home / name).write_text("", encoding="utf-8")
    keys = ["trust-wrong", "vpc-no-eni", "vpc-boundary", "url-not-public", "sqs-no-receive"]
    with moto_server() as endpoint:
        seeded = seed_sync(endpoint.endpoint_url, accounts=[DEFAULT_ACCOUNT], only=keys)
        yield World(endpoint, "", home), {s.key: s.function_arn for s in seeded}


def breaking_changes(now: datetime) -> list[dict[str, Any]]:
    admin = r.assumed_role("admin", "bob", account=DEFAULT_ACCOUNT)

    def iam(name: str, hours: int, **params: Any) -> dict[str, Any]:
        return r.record(
            name,
            "iam.amazonaws.com",
            time=now - timedelta(hours=hours),
            identity=admin,
            params=params,
            source_ip="198.51.100.20",
            account=DEFAULT_ACCOUNT,
        )

    return [
        iam("UpdateAssumeRolePolicy", 3, roleName="billing-sync-role", policyDocument="{}"),
        iam(
            "DetachRolePolicy",
            2,
            roleName="inventory-vpc-role",
            policyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        ),
        iam(
            "PutRolePermissionsBoundary",
            2,
            roleName="payments-vpc-role",
            permissionsBoundary=f"arn:aws:iam::{DEFAULT_ACCOUNT}:policy/payments-boundary",
        ),
        iam("DeleteRolePolicy", 1, roleName="orders-worker-role", policyName="sqs-read"),
        r.record(
            "UpdateFunctionUrlConfig20211031",
            "lambda.amazonaws.com",
            time=now - timedelta(hours=1),
            identity=admin,
            params={"functionName": "webhook-receiver", "authType": "NONE"},
            account=DEFAULT_ACCOUNT,
        ),
    ]


@pytest.mark.parametrize(
    ("key", "check", "event"),
    [
        ("trust-wrong", "execution-role-trust", "UpdateAssumeRolePolicy"),
        ("vpc-no-eni", "vpc-eni", "DetachRolePolicy"),
        ("vpc-boundary", "vpc-eni", "PutRolePermissionsBoundary"),
        ("url-not-public", "function-url", "UpdateFunctionUrlConfig"),
        ("sqs-no-receive", "event-source", "DeleteRolePolicy"),
    ],
)
async def test_scenario_failure_is_tied_to_its_change(
    scenarios: tuple[World, dict[str, str]], key: str, check: str, event: str
) -> None:
    world, arns = scenarios
    fake = FakeCloudTrail(breaking_changes(datetime.now(UTC).replace(microsecond=0)))
    await fake.start()
    try:
        code, out, err = await lambda_why(["check", arns[key], "--json"], world, fake)
    finally:
        await fake.close()
    assert code == 1, err
    doc = json.loads(out)
    assert [e["event"] for e in doc["events"]] == [event]
    failing = [f for f in doc["findings"] if f["status"] == "fail" and f["check"] == check]
    assert failing, doc["findings"]
    assert failing[0]["related_events"][0]["event"] == event
    assert "Likely cause: bob (arn:aws:sts::" in failing[0]["detail"]


async def test_history_aws_unreachable_exits_3(world: World, trail: FakeCloudTrail) -> None:
    unreachable = World(
        MotoEndpoint("http://127.0.0.1:9", world.moto.region), world.function_arn, world.home
    )
    code, _, err = await lambda_why(["history", world.function_arn], unreachable, trail)
    assert code == 3, err
    assert err.startswith("lambda-why: ")
