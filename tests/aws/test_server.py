"""End to end against a moto server reached through AWS_ENDPOINT_URL, as `check` runs."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from functools import partial

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bot.aws import collect as collect_module
from bot.aws.errors import FunctionNotFound
from bot.config import AccountConfig, FileConfig
from tests.aws.conftest import REGION, make_access, seed_function
from tests.aws.test_cross_account import OTHER, other_account_session

collect = partial(collect_module.collect, late_collectors=())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        urllib.request.urlopen(  # forget the seeded state
            urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5
        ).close()
        server.stop()


async def test_collect_through_endpoint_url(moto_server: str) -> None:
    seeded = seed_function()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="orders-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="orders-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": seeded.function_arn, "Events": ["s3:ObjectCreated:Put"]}
            ]
        },
    )
    access = make_access()
    snap = await collect(access, seeded.function_arn)
    assert snap.function.arn == seeded.function_arn
    assert snap.role is not None
    assert len(snap.role.attached_policies) == 2
    assert all(p.document for p in snap.role.attached_policies)
    [mapping] = snap.event_source_mappings
    assert mapping.source.exists is True
    assert mapping.source.policy is not None
    assert [t.name for t in snap.triggers if t.service == "s3"] == ["orders-uploads"]
    assert snap.gaps == []
    # every call went to the server: the recorder saw them, none was refused
    assert access.recorder.calls["lambda:GetFunction"] == 1
    with pytest.raises(FunctionNotFound):
        await collect(access, "missing-function")


async def test_second_account_through_endpoint_url(moto_server: str) -> None:
    session = other_account_session()
    seeded = seed_function(session, name="billing", account=OTHER)
    access = make_access(config=FileConfig(accounts={OTHER: AccountConfig(external_id="ext-123")}))
    snap = await collect(access, seeded.function_arn)
    assert snap.account == OTHER
    assert snap.role is not None
    assert snap.role.exists is True
    assert access.recorder.calls["sts:AssumeRole"] == 1
    assert snap.gaps == []
