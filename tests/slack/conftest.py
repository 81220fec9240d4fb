"""Fixtures for the Slack tests: a Slack Web API double, a served app, a real Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis as redis_sync
from aiohttp.test_utils import TestServer

from bot.config import AccountConfig, FileConfig, Settings
from bot.queue import CheckJob
from bot.report import Evidence, Finding, Fix, Report, Severity, Status, Summary
from bot.slack.double import SlackDouble, SlackSender
from bot.snapshot import FunctionConfig, LoggingConfig, Snapshot
from bot.web import SERVICES, Services, build_services, build_web_app

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token-never-posted"
OWN_ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{OWN_ACCOUNT}:role/orders-role"
FUNCTION = f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:orders"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A Redis URL base: the one at 127.0.0.1:6379, or a redis-server started here."""
    try:
        redis_sync.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
        yield "redis://127.0.0.1:6379"
        return
    except redis_sync.exceptions.ConnectionError:
        pass
    binary = shutil.which("redis-server")
    assert binary is not None, "Redis is not running and redis-server is not installed"
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                redis_sync.Redis(host="127.0.0.1", port=port).ping()
                break
            except redis_sync.exceptions.ConnectionError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A private database (DB 13, or `LAMBDA_WHY_TEST_REDIS_DB` when several test runs
    share one Redis), flushed before and after each test."""
    url = f"{redis_server}/{os.environ.get('LAMBDA_WHY_TEST_REDIS_DB', '13')}"
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble() as fake:
        yield fake


def finding(
    check: str,
    status: Status = Status.FAIL,
    *,
    title: str | None = None,
    actions: list[str] | None = None,
    principal: str | None = ROLE,
    source: str | None = None,
    policy: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=Severity.HIGH if status is Status.FAIL else Severity.LOW,
        title=title or f"{check} is {status.value}",
        detail=f"Detail of {check}.",
        principal=principal,
        actions=actions or [],
        resources=["*"],
        source=source,
        denied_by=["identity"] if status is Status.FAIL else [],
        evidence=[Evidence(policy=f"{ROLE}/inline", sid="Base", text='{"Effect": "Allow"}')],
        fix=Fix(
            summary=f"Fix {check}",
            policy=policy
            or {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions or [], "Resource": "*"}],
            },
            commands=[f"aws iam put-role-policy --role-name orders-role --policy-name {check}"],
        )
        if status is Status.FAIL
        else None,
    )


def make_report(findings: list[Finding], function: str = FUNCTION) -> Report:
    return Report(
        function=function,
        account=function.split(":")[4],
        region=function.split(":")[3],
        checked_at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
        summary=Summary.of(findings),
        findings=findings,
    )


def make_snapshot(function: str = FUNCTION) -> Snapshot:
    name = function.split(":function:")[1].split(":", maxsplit=1)[0]
    return Snapshot(
        account=function.split(":")[4],
        region=function.split(":")[3],
        function=FunctionConfig(
            arn=function,
            name=name,
            role_arn=ROLE,
            environment={"DB_PASSWORD": "***redacted***"},
            logging=LoggingConfig(log_group=f"/aws/lambda/{name}"),
        ),
    )


class FakeDiagnosis:
    """A diagnose function returning hand-built reports: `reports` are used in turn."""

    def __init__(self, *reports: list[Finding], delay: float = 0.0) -> None:
        self.reports = list(reports) or [
            [finding("vpc-eni", actions=["ec2:CreateNetworkInterface"])]
        ]
        self.delay = delay
        self.calls: list[CheckJob] = []

    async def __call__(self, job: CheckJob) -> tuple[Snapshot, Report]:
        import asyncio

        self.calls.append(job)
        if self.delay:
            await asyncio.sleep(self.delay)
        findings = self.reports[min(len(self.calls), len(self.reports)) - 1]
        ref = job.function_ref if job.function_ref.startswith("arn:") else FUNCTION
        return make_snapshot(ref), make_report(findings, ref)


class FakeAccess:
    async def own_identity(self) -> Any:
        return SimpleNamespace(
            account=OWN_ACCOUNT, arn=f"arn:aws:iam::{OWN_ACCOUNT}:user/bot", partition="aws"
        )


def settings_for(double: SlackDouble, redis_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=double.url,
        redis_url=redis_url,
        escalation_channel="C0ESCALATE",
        lambda_why_config=None,
    )


@dataclass
class Served:
    server: TestServer
    services: Services
    sender: SlackSender
    double: SlackDouble
    diagnosis: FakeDiagnosis

    async def drain(self) -> None:
        await self.services.drain()

    async def close(self) -> None:
        await self.sender.close()
        await self.server.close()


async def serve(
    double: SlackDouble,
    *,
    diagnosis: FakeDiagnosis | None = None,
    config: FileConfig | None = None,
    redis_url: str | None = None,
    settings: Settings | None = None,
    queue: Any = None,
    explain: Any = None,
) -> Served:
    diagnosis = diagnosis or FakeDiagnosis()
    settings = settings or settings_for(double, redis_url)
    services = build_services(
        settings,
        config or FileConfig(),
        access_factory=lambda who: FakeAccess(),
        diagnose=diagnosis,
        queue=queue,
        explain=explain,
    )
    app = build_web_app(settings, config or FileConfig(), services=services)
    server = TestServer(app)
    await server.start_server()
    sender = SlackSender(str(server.make_url("/slack/events")), SECRET, double=double)
    return Served(
        server=server, services=app[SERVICES], sender=sender, double=double, diagnosis=diagnosis
    )


@pytest.fixture
async def served(double: SlackDouble) -> AsyncIterator[Served]:
    app = await serve(double)
    yield app
    await app.close()


def unique_channel() -> str:
    return "C" + uuid.uuid4().hex[:9].upper()


def config_with(**accounts: list[str] | None) -> FileConfig:
    return FileConfig(
        accounts={
            acct.removeprefix("a"): AccountConfig(channels=chans)
            for acct, chans in accounts.items()
        }
    )


FIXTURES = Path(__file__).parent / "fixtures"
