"""A lambda-why worker process with a slow fake diagnosis, for the reclaim test.

Run as `python -m tests.slack.worker_proc REDIS_URL SLACK_API_URL`; the test kills it with
SIGKILL while it runs a job.
"""

from __future__ import annotations

import asyncio
import sys

from bot.queue import SaqJobQueue, saq_worker
from bot.slack.store import RedisStore
from bot.slack.webapi import web_client
from bot.worker import JobRunner
from tests.slack.conftest import TOKEN, FakeDiagnosis


async def main(redis_url: str, api_url: str) -> None:
    jobs = SaqJobQueue.from_url(redis_url)
    runner = JobRunner(
        client=web_client(TOKEN, api_url),
        store=RedisStore.from_url(redis_url),
        diagnose=FakeDiagnosis(delay=120),
    )
    worker = saq_worker(jobs, runner, concurrency=1, worker_id="doomed-worker")
    await jobs.queue.connect()
    print("ready", flush=True)
    await worker.start()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
