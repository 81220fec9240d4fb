"""`lambda-why serve` as a process, against the Slack double and a moto server, with the
real `bot.diagnose.diagnose`: the way the acceptance run drives it (HTTP mode, no Redis,
no config file, only the documented environment)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import socket
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.demo.moto import MotoEndpoint, moto_server
from bot.demo.scenarios import seed_sync
from bot.slack.actions import ActionId
from bot.slack.double import SlackDouble, SlackSender

from .conftest import SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    with moto_server() as endpoint:
        yield endpoint


def process_env(
    moto: MotoEndpoint, double: SlackDouble, tmp_path: Path, **extra: str
) -> dict[str, str]:
    empty = tmp_path / "empty"
    empty.write_text("")
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": double.url,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        **moto.client_env(),
        **extra,
    }


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], cwd: Path) -> AsyncIterator[str]:
    """`lambda-why serve` in a subprocess until the block ends; yields its base URL."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=str(cwd),
        env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(150):
                try:
                    async with session.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("serve did not become healthy")
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()[-2000:]
        # one JSON audit line per request on stdout
        for line in out.decode().splitlines():
            json.loads(line)


@pytest.fixture
async def serve_process(
    moto: MotoEndpoint, double: SlackDouble, tmp_path: Path
) -> AsyncIterator[tuple[str, SlackDouble, list]]:
    moto.reset()
    scenarios = seed_sync(moto.endpoint_url, only=["vpc-no-eni"])
    async with serving(process_env(moto, double, tmp_path), tmp_path) as base:
        yield base, double, scenarios


async def test_serve_end_to_end_with_moto(serve_process: tuple[str, SlackDouble, list]) -> None:
    base, double, scenarios = serve_process
    function = scenarios[0].function_arn
    # Bolt's auth.test went to SLACK_API_URL
    await double.wait_for(lambda: double.calls_to("auth.test"), what="auth.test")
    async with SlackSender(f"{base}/slack/events", SECRET, double=double) as sender:
        reply = await sender.command(function)
        assert reply.status == 200
        assert "Checking" in reply.json()["text"]
        parent = await double.wait_for(
            lambda: next(
                (m for m in double.messages.values() if m.thread_ts is None and m.updates), None
            ),
            within=60,
            what="parent updated with the summary",
        )
        thread = double.thread(parent.channel, parent.ts)
        text = json.dumps([m.blocks for m in thread])
        assert "ec2:CreateNetworkInterface" in text
        assert "Rerun" in json.dumps(parent.blocks)
        await sender.click(
            {"type": "message", "ts": parent.ts, "text": parent.text, "blocks": parent.blocks},
            ActionId.EXPORT,
            channel=parent.channel,
        )
        uploads = await double.wait_for(double.completed_uploads, within=30, what="bundle")
        with zipfile.ZipFile(io.BytesIO(uploads[0].content)) as archive:
            findings = json.loads(archive.read("findings.json"))
        assert findings["function"] == function
        assert any(f["check"] == "vpc-eni" and f["status"] == "fail" for f in findings["findings"])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/metrics") as resp:
                metrics = await resp.text()
            async with session.get(f"{base}/readyz") as resp:
                assert resp.status == 200
        assert 'lambda_why_slack_requests_total{kind="command",outcome="queued"} 1.0' in metrics
        # explain, with the policies read from moto and evaluated
        role = scenarios[0].role_arn.split("/")[-1]
        message = (
            f"User: arn:aws:sts::{scenarios[0].account}:assumed-role/{role}/session is not "
            "authorized to perform: ec2:CreateNetworkInterface on resource: "
            f"arn:aws:ec2:us-east-1:{scenarios[0].account}:network-interface/* because no "
            "identity-based policy allows the ec2:CreateNetworkInterface action"
        )
        reply = await sender.command(f"explain {message}", channel="C0EXPLAIN")
        assert "Explaining" in reply.json()["text"]
        root = await double.wait_for(
            lambda: next(
                (
                    m
                    for m in double.messages.values()
                    if m.channel == "C0EXPLAIN" and not m.thread_ts
                ),
                None,
            ),
            within=60,
            what="explain answer",
        )
        assert "ec2:CreateNetworkInterface" in json.dumps(root.blocks)
        replies = await double.wait_for(
            lambda: [m for m in double.thread("C0EXPLAIN", root.ts) if m.ts != root.ts],
            within=60,
            what="explain findings",
        )
        assert "could not be evaluated" not in json.dumps([m.blocks for m in replies])


async def test_serve_with_redis_and_a_burst_worker(
    moto: MotoEndpoint, double: SlackDouble, tmp_path: Path, redis_url: str
) -> None:
    moto.reset()
    scenarios = seed_sync(moto.endpoint_url, only=["sqs-no-receive"])
    function = scenarios[0].function_arn
    env = process_env(moto, double, tmp_path, REDIS_URL=redis_url)
    async with serving(env, tmp_path) as base:
        async with SlackSender(f"{base}/slack/events", SECRET, double=double) as sender:
            reply = await sender.command(function)
            assert "Checking" in reply.json()["text"]
        async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as resp:
            assert resp.status == 200
        await asyncio.sleep(0.3)
        assert not double.calls_to("chat.postMessage")
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "worker",
            "--burst",
            cwd=str(tmp_path),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 0, err.decode()[-2000:]
        audit = [json.loads(line) for line in out.decode().splitlines()]
        assert [a["outcome"] for a in audit if a["event"] == "job_finished"] == ["done"]
    parent = next(m for m in double.messages.values() if m.thread_ts is None)
    assert parent.updates >= 1
    assert "Rerun" in json.dumps(parent.blocks)
    thread = json.dumps([m.blocks for m in double.thread(parent.channel, parent.ts)])
    assert "sqs:ReceiveMessage" in thread


async def test_worker_stops_on_sigterm(
    moto: MotoEndpoint, double: SlackDouble, tmp_path: Path, redis_url: str
) -> None:
    env = process_env(moto, double, tmp_path, REDIS_URL=redis_url)
    port = _free_port()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "worker",
        "--metrics-port",
        str(port),
        cwd=str(tmp_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    metrics = ""
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    metrics = await resp.text()
                    break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    assert "lambda_why_jobs" in metrics
    assert worker.returncode is None
    worker.terminate()
    _out, err = await asyncio.wait_for(worker.communicate(), timeout=15)
    assert worker.returncode == 0, err.decode()[-2000:]


async def test_worker_needs_redis(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "worker",
        cwd=str(tmp_path),
        env={"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await proc.communicate()
    assert proc.returncode == 2
    assert err.decode().strip().splitlines() == [
        "lambda-why: REDIS_URL is not set: without it `lambda-why serve` runs the jobs itself"
    ]
