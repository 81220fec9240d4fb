"""A function in a second account, read through that account's read-only role (moto)."""

from __future__ import annotations

import json
from functools import partial

import boto3
import pytest
from moto.sts.models import sts_backends

from bot.aws import collect as collect_module
from bot.aws.errors import AwsUnavailable
from bot.config import AccountConfig, FileConfig, Settings
from tests.aws.conftest import ACCOUNT, REGION, make_access, seed_function

collect = partial(collect_module.collect, late_collectors=())
OTHER = "222222222222"
READ_ONLY_ROLE = f"arn:aws:iam::{OTHER}:role/LambdaWhyReadOnly"


def other_account_session() -> boto3.Session:
    """Credentials in the second account (moto maps assumed-role keys to the role's account)."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{OTHER}:role/seeder", RoleSessionName="seeder"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
            }
        ],
    }
    session.client("iam").create_role(
        RoleName="LambdaWhyReadOnly", AssumeRolePolicyDocument=json.dumps(trust)
    )
    return session


async def test_function_in_second_account_through_read_only_role(moto: None) -> None:
    session = other_account_session()
    seeded = seed_function(session, name="billing", account=OTHER)
    assert f":{OTHER}:" in seeded.function_arn
    config = FileConfig(accounts={OTHER: AccountConfig(external_id="ext-123")})
    access = make_access(config=config, requested_by="U024BE7LH")
    snap = await collect(access, seeded.function_arn)
    assert snap.account == OTHER
    assert snap.function.arn == seeded.function_arn
    assert snap.role is not None
    assert snap.role.arn == seeded.role_arn
    assert len(snap.role.attached_policies) == 2
    [mapping] = snap.event_source_mappings
    assert mapping.source.exists is True
    assert snap.gaps == []
    assumed = [r for r in sts_backends[OTHER]["aws"].assumed_roles if r.role_arn == READ_ONLY_ROLE]
    assert len(assumed) == 1
    assert assumed[0].session_name == "lambda-why-U024BE7LH"
    assert assumed[0].external_id == "ext-123"
    # credentials are cached per account: a second diagnosis assumes nothing new
    await collect(access, seeded.function_arn)
    assert access.recorder.calls["sts:AssumeRole"] == 1


async def test_configured_role_override(moto: None) -> None:
    session = other_account_session()
    seeded = seed_function(session, name="billing", account=OTHER)
    custom = f"arn:aws:iam::{OTHER}:role/custom/Reader"
    config = FileConfig(accounts={OTHER: AccountConfig(role_arn=custom, external_id="x-1")})
    snap = await collect(make_access(config=config), seeded.function_arn)
    assert snap.account == OTHER
    assumed = [r for r in sts_backends[OTHER]["aws"].assumed_roles if r.role_arn == custom]
    assert [r.external_id for r in assumed] == ["x-1"]


async def test_env_role_name_and_external_id(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    session = other_account_session()
    seeded = seed_function(session, name="billing", account=OTHER)
    monkeypatch.setenv("LAMBDA_WHY_ROLE_NAME", "OtherReader")
    monkeypatch.setenv("LAMBDA_WHY_EXTERNAL_ID", "env-ext")
    from bot.aws.access import AwsAccess

    access = AwsAccess(
        Settings(_env_file=None),  # type: ignore[call-arg]
        FileConfig(accounts={OTHER: AccountConfig()}),
        base_session=boto3.Session(region_name=REGION),
    )
    await collect(access, seeded.function_arn)
    [assumed] = [
        r
        for r in sts_backends[OTHER]["aws"].assumed_roles
        if r.role_arn == f"arn:aws:iam::{OTHER}:role/OtherReader"
    ]
    assert assumed.external_id == "env-ext"
    assert assumed.session_name == "lambda-why"


async def test_assume_role_denied_is_unavailable(moto: None) -> None:
    from botocore.exceptions import ClientError

    config = FileConfig(accounts={OTHER: AccountConfig()})
    access = make_access(config=config)
    sts = await access.client("sts", account=ACCOUNT, region=REGION)

    def refuse(**_: object) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": f"User: arn:aws:iam::{ACCOUNT}:user/bot is not authorized to "
                    f"perform: sts:AssumeRole on resource: {READ_ONLY_ROLE}",
                }
            },
            "AssumeRole",
        )

    sts.meta.events.register("before-call.sts.AssumeRole", refuse)
    with pytest.raises(AwsUnavailable, match=r"cannot assume .*LambdaWhyReadOnly: AccessDenied"):
        await collect(access, f"arn:aws:lambda:{REGION}:{OTHER}:function:billing")
