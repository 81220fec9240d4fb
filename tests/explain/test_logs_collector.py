"""bot.aws.logs against moto: lines of the window, merged and sorted; failures are gaps."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from bot.aws import logs
from bot.aws.collect import collect
from bot.aws.reader import Reader
from tests.aws.conftest import ACCOUNT, REGION, make_access, seed_function

DENIED = (
    "[ERROR] An error occurred (AccessDeniedException) when calling the PutItem operation: "
    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders is not authorized to "
    f"perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders "
    "because no identity-based policy allows the dynamodb:PutItem action"
)


def put_lines(group: str, lines: list[tuple[datetime, str]]) -> None:
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="s1")
    client.put_log_events(
        logGroupName=group,
        logStreamName="s1",
        logEvents=[{"timestamp": int(t.timestamp() * 1000), "message": m} for t, m in lines],
    )


async def test_reads_window_lines_sorted_and_unique(moto: None) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    put_lines(
        "/aws/lambda/orders",
        [
            (now - timedelta(hours=30), "too old " + DENIED),
            (now - timedelta(minutes=10), "START RequestId: 1"),
            (now - timedelta(minutes=9), DENIED),
            (now - timedelta(minutes=8), "REPORT RequestId: 1"),
        ],
    )
    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    lines = await logs.read_log_lines(
        reader, "/aws/lambda/orders", now - timedelta(hours=24), now + timedelta(minutes=1)
    )
    assert [line.message for line in lines] == ["START RequestId: 1", DENIED, "REPORT RequestId: 1"]
    assert all(line.stream == "s1" for line in lines)
    assert lines[1].time == now - timedelta(minutes=9)
    assert reader.gaps == []


async def test_missing_log_group_is_no_lines_and_no_gap(moto: None) -> None:
    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    now = datetime.now(UTC)
    assert (
        await logs.read_log_lines(reader, "/aws/lambda/none", now - timedelta(hours=1), now) == []
    )
    assert reader.gaps == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_failed_read_is_a_gap(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", f"http://127.0.0.1:{_closed_port()}")
    access = make_access(
        botocore_config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    )
    reader = Reader(access, account=ACCOUNT, region=REGION)
    now = datetime.now(UTC)
    lines = await logs.read_log_lines(reader, "/aws/lambda/orders", now - timedelta(hours=1), now)
    assert lines == []
    [gap] = reader.gaps
    assert gap.operation == "logs:FilterLogEvents"
    assert gap.resource == "/aws/lambda/orders"


async def test_collect_fills_snapshot_logs(moto: None) -> None:
    seed_function()
    now = datetime.now(UTC)
    put_lines("/aws/lambda/orders", [(now - timedelta(minutes=5), DENIED)])
    snapshot = await collect(make_access(), "orders")
    assert [line.message for line in snapshot.logs] == [DENIED]
