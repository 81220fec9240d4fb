"""With `REDIS_URL`: saq queue, separate workers, joining, results shared through Redis,
and a killed worker's job finishing on another worker in the same thread."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from bot.queue import JOB_FUNCTION, JobLimits, SaqJobQueue, saq_worker
from bot.slack.actions import ActionId
from bot.slack.double import SlackDouble
from bot.slack.store import RedisStore
from bot.slack.webapi import web_client
from bot.worker import JobRunner

from .conftest import FUNCTION, TOKEN, FakeDiagnosis, finding, serve
from .test_flow import all_text, as_event_message, button_texts, parent_of

ROOT = Path(__file__).resolve().parents[2]


async def run_worker(
    redis_url: str, double: SlackDouble, diagnosis: FakeDiagnosis, **kwargs: Any
) -> None:
    """A burst worker: runs everything queued, then returns."""
    jobs = SaqJobQueue.from_url(redis_url)
    store = RedisStore.from_url(redis_url)
    runner = JobRunner(client=web_client(TOKEN, double.url), store=store, diagnose=diagnosis)
    worker = saq_worker(jobs, runner, burst=True, **kwargs)
    await jobs.queue.connect()
    try:
        await worker.start()
    finally:
        await jobs.close()
        await store.close()


async def test_command_queued_in_redis_then_worker_posts(
    double: SlackDouble, redis_url: str
) -> None:
    app = await serve(double, redis_url=redis_url)
    try:
        body = (await app.sender.command(FUNCTION)).json()
        assert "Checking" in body["text"]
        await asyncio.sleep(0.2)
        assert not double.calls_to("chat.postMessage")  # nothing runs in the web process
        worker_diagnosis = FakeDiagnosis(
            [finding("vpc-eni", actions=["ec2:CreateNetworkInterface"])],
            [finding("kms", actions=["kms:Decrypt"])],
        )
        await run_worker(redis_url, double, worker_diagnosis)
        parent = parent_of(double)
        assert "Rerun" in button_texts(parent)[ActionId.RERUN]
        assert len(worker_diagnosis.calls) == 1, [
            (c.id, c.rerun_of) for c in worker_diagnosis.calls
        ]
        # Rerun through Redis: same thread, diff against the result kept in Redis
        await app.sender.click(as_event_message(parent), ActionId.RERUN)
        await run_worker(redis_url, double, worker_diagnosis)
        thread = double.thread("C0INCIDENT", parent.ts)
        diff = [m for m in thread if "previous run" in all_text(m)]
        assert len(diff) == 1
        assert "vpc-eni" in all_text(diff[0])
        # Export in the web process reads the result the worker kept in Redis
        await app.sender.click(as_event_message(parent_of(double)), ActionId.EXPORT)
        uploads = await double.wait_for(double.completed_uploads, what="bundle")
        assert uploads[0].thread_ts == parent.ts
    finally:
        await app.close()


async def test_readyz_checks_redis(double: SlackDouble, redis_url: str) -> None:
    app = await serve(double, redis_url=redis_url)
    try:
        client = app.sender
        assert client is not None
        import aiohttp

        async with (
            aiohttp.ClientSession() as session,
            session.get(str(app.server.make_url("/readyz"))) as resp,
        ):
            assert resp.status == 200
            assert (await resp.json())["queue"] is True
    finally:
        await app.close()


async def test_same_function_joined_not_duplicated(double: SlackDouble, redis_url: str) -> None:
    app = await serve(double, redis_url=redis_url)
    try:
        first = (await app.sender.command(FUNCTION, channel="C0FIRST")).json()
        second = (await app.sender.command(FUNCTION, channel="C0SECOND", user="U0BOB")).json()
        assert "Checking" in first["text"]
        assert "already running" in second["text"]
        diagnosis = FakeDiagnosis()
        await run_worker(redis_url, double, diagnosis)
        assert len(diagnosis.calls) == 1
        for channel in ("C0FIRST", "C0SECOND"):
            parent = parent_of(double, channel)
            assert "Rerun" in button_texts(parent)[ActionId.RERUN]
        # once finished, the same function can be checked again
        third = (await app.sender.command(FUNCTION, channel="C0THIRD")).json()
        assert "Checking" in third["text"]
    finally:
        await app.close()


async def test_killed_worker_job_finishes_elsewhere_in_one_thread(
    double: SlackDouble, redis_url: str
) -> None:
    queue = SaqJobQueue.from_url(redis_url, limits=JobLimits(timeout=120, heartbeat=2, retries=3))
    app = await serve(double, redis_url=redis_url, queue=queue)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.slack.worker_proc",
        redis_url,
        double.url,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await app.sender.command(FUNCTION)
        # the doomed worker posts the parent, then hangs in its (slow) diagnosis
        await double.wait_for(
            lambda: double.calls_to("chat.postMessage"),
            within=30,
            what="parent by the doomed worker",
        )
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        diagnosis = FakeDiagnosis()
        jobs = SaqJobQueue.from_url(redis_url)
        store = RedisStore.from_url(redis_url)
        runner = JobRunner(client=web_client(TOKEN, double.url), store=store, diagnose=diagnosis)
        worker = saq_worker(jobs, runner, sweep_interval=1, worker_id="rescuer")
        await jobs.queue.connect()
        task = asyncio.create_task(worker.start())
        try:
            parent = await double.wait_for(
                lambda: next(
                    (m for m in double.messages.values() if m.thread_ts is None and m.updates), None
                ),
                within=60,
                what="the job finished by another worker",
            )
        finally:
            await worker.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await jobs.close()
            await store.close()
        assert len(diagnosis.calls) == 1
        assert parent_of(double).ts == parent.ts  # still one parent: one thread
        thread = double.thread("C0INCIDENT", parent.ts)
        assert any("another worker resumed" in m.text for m in thread)
        assert sum("vpc-eni is fail" in m.text for m in thread) == 1
        assert "Rerun" in json.dumps(parent.blocks)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await app.close()


async def test_redelivered_finished_job_does_not_run_twice(
    double: SlackDouble, redis_url: str
) -> None:
    """saq's sweep can re-queue a job caught between dequeue and "active" (tobymao/saq#277):
    the second delivery of a job that already finished must not diagnose or post again."""
    app = await serve(double, redis_url=redis_url)
    try:
        await app.sender.command(FUNCTION)
        diagnosis = FakeDiagnosis()
        await run_worker(redis_url, double, diagnosis)
        assert len(diagnosis.calls) == 1
        posts = len(double.calls_to("chat.postMessage"))
        # deliver the very same job again, as the sweep's retry would
        jobs = SaqJobQueue.from_url(redis_url)
        await jobs.queue.connect()
        try:
            again = diagnosis.calls[0]
            assert await jobs.finished(again.id)
            await jobs.queue.enqueue(
                JOB_FUNCTION, key="redelivered", job=again.model_dump(mode="json")
            )
        finally:
            await jobs.close()
        await run_worker(redis_url, double, diagnosis)
        assert len(diagnosis.calls) == 1
        assert len(double.calls_to("chat.postMessage")) == posts
    finally:
        await app.close()
