"""Jobs and the queues that carry them to a worker.

A job is a pydantic model serialised to JSON. Two queues implement one `JobQueue` protocol:

* `SaqJobQueue` (with `REDIS_URL`): saq on Redis. The saq job `key` is the job's dedupe key,
  so a second request for a function whose check is still queued or running is *joined*:
  it is pushed on that job's joiner list and the worker presents the same result to it.
  Workers heartbeat their jobs; saq's sweep re-queues a job whose worker died.
* `InProcessJobQueue` (no Redis): asyncio tasks in the serving process, same job function,
  same joining.

The job function itself is `bot.worker.JobRunner.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter
from redis.exceptions import RedisError

from bot.slack.refs import Requester, ThreadRef

log = logging.getLogger(__name__)

#: saq function name of every lambda-why job
JOB_FUNCTION = "run_job"
#: saq queue name
QUEUE_NAME = "lambda-why"


def _new_id() -> str:
    return uuid.uuid4().hex


class CheckJob(BaseModel):
    """Diagnose one function (`/lambda-why <arn>`, a mention, the shortcut, or Rerun)."""

    kind: Literal["check"] = "check"
    id: str = Field(default_factory=_new_id)
    #: what the collectors are given: a function ARN (or name in the bot's own account)
    function_ref: str
    #: the account authorized for this request
    account: str | None = None
    requester: Requester
    #: set for Rerun: the thread whose previous result the new one is compared with
    rerun_of: ThreadRef | None = None
    #: Slack trigger or event id, for the audit log
    request_id: str | None = None
    since_hours: float = 24.0
    scan_triggers: bool = False

    def dedupe_key(self) -> str:
        """Checks of the same function share one key: a running check is joined.

        A Rerun must read AWS again, so it only joins a Rerun of the same thread (a double
        click), never a check that may have read AWS before the fix."""
        if self.rerun_of is not None:
            return f"rerun:{self.rerun_of.key}"
        return f"check:{self.function_ref}"


class ExplainJob(BaseModel):
    """Explain a pasted access error (`/lambda-why explain`, or a mention with an error)."""

    kind: Literal["explain"] = "explain"
    id: str = Field(default_factory=_new_id)
    message: str
    account: str | None = None
    requester: Requester
    request_id: str | None = None

    def dedupe_key(self) -> str:
        return f"explain:{self.id}"


AnyJob = Annotated[CheckJob | ExplainJob, Field(discriminator="kind")]
JOB_ADAPTER: TypeAdapter[CheckJob | ExplainJob] = TypeAdapter(AnyJob)


class SubmitResult(BaseModel):
    job_id: str
    #: True: the same check was already running and this request joined it
    joined: bool = False


@dataclass
class JobContext:
    """What the queue gives the job function besides the job."""

    #: joiners collected since the last call (the worker presents the result to them);
    #: `take_joiners(True)` is the last call: later requests start a new job
    take_joiners: Callable[[bool], Awaitable[list[CheckJob]]]
    #: the last attempt: a failure is final and must be reported to the user
    final_attempt: bool = True
    attempt: int = 1


class JobFunction(Protocol):
    async def __call__(self, job: CheckJob | ExplainJob, ctx: JobContext) -> dict[str, Any]: ...


class JobQueue(Protocol):
    async def submit(self, job: CheckJob | ExplainJob) -> SubmitResult: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


# ------------------------------------------------------------------------------ in process


class InProcessJobQueue:
    """Runs jobs as asyncio tasks of the serving process (no `REDIS_URL`)."""

    def __init__(self, function: JobFunction, *, concurrency: int = 4) -> None:
        self._function = function
        self._semaphore = asyncio.Semaphore(concurrency)
        self._joiners: dict[str, list[CheckJob]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, job: CheckJob | ExplainJob) -> SubmitResult:
        key = job.dedupe_key()
        if key in self._joiners and isinstance(job, CheckJob):
            self._joiners[key].append(job)
            return SubmitResult(job_id=job.id, joined=True)
        self._joiners[key] = []
        task = asyncio.create_task(self._run(job, key), name=f"lambda-why-job-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return SubmitResult(job_id=job.id)

    async def _run(self, job: CheckJob | ExplainJob, key: str) -> None:
        async def take(final: bool) -> list[CheckJob]:
            if final:
                return self._joiners.pop(key, [])
            taken = self._joiners.get(key, [])
            self._joiners[key] = []
            return taken

        try:
            async with self._semaphore:
                await self._function(job, JobContext(take_joiners=take))
        except Exception:
            log.exception("job %s failed", job.id)
        finally:
            self._joiners.pop(key, None)

    async def drain(self) -> None:
        """Wait until every submitted job (and the jobs they started) finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def ping(self) -> bool:
        return True

    async def close(self, grace: float = 10.0) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(list(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


# ------------------------------------------------------------------------------ saq / Redis

_JOIN = """
if redis.call('ZSCORE', KEYS[1], KEYS[2]) and redis.call('EXISTS', KEYS[4]) == 0 then
    redis.call('RPUSH', KEYS[3], ARGV[1])
    redis.call('EXPIRE', KEYS[3], 86400)
    return 1
end
return 0
"""

_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
if ARGV[1] == '1' then
    redis.call('SET', KEYS[2], '1', 'EX', 600)
end
return items
"""


@dataclass
class JobLimits:
    """saq job settings."""

    #: seconds a job may run
    timeout: int = 300
    #: seconds without a heartbeat after which the sweep treats the worker as dead
    heartbeat: int = 15
    #: attempts in all (a reclaimed job counts one)
    retries: int = 3
    #: seconds saq keeps a finished job's record
    ttl: int = 3600


class SaqJobQueue:
    """The producer side: enqueue on saq, join a running check of the same function."""

    def __init__(self, queue: Any, *, limits: JobLimits | None = None) -> None:
        #: a `saq.queue.redis.RedisQueue`
        self.queue = queue
        self.limits = limits or JobLimits()

    @classmethod
    def from_url(cls, url: str, *, limits: JobLimits | None = None) -> SaqJobQueue:
        from saq import Queue

        return cls(Queue.from_url(url, name=QUEUE_NAME), limits=limits)

    @property
    def redis(self) -> Any:
        return self.queue.redis

    def joiners_key(self, dedupe_key: str) -> str:
        return str(self.queue.namespace(f"joiners:{dedupe_key}"))

    def closed_key(self, dedupe_key: str) -> str:
        return str(self.queue.namespace(f"closed:{dedupe_key}"))

    async def submit(self, job: CheckJob | ExplainJob) -> SubmitResult:
        key = job.dedupe_key()
        payload = job.model_dump(mode="json")
        for _ in range(50):
            queued = await self.queue.enqueue(
                JOB_FUNCTION,
                key=key,
                job=payload,
                timeout=self.limits.timeout,
                heartbeat=self.limits.heartbeat,
                retries=self.limits.retries,
                ttl=self.limits.ttl,
            )
            if queued is not None:
                return SubmitResult(job_id=job.id)
            if not isinstance(job, CheckJob):
                raise RuntimeError(f"job {key} could not be queued")
            joined = await self.redis.eval(
                _JOIN,
                4,
                self.queue.namespace("incomplete"),
                self.queue.job_id(key),
                self.joiners_key(key),
                self.closed_key(key),
                job.model_dump_json(),
            )
            if joined:
                return SubmitResult(job_id=job.id, joined=True)
            # the running job is finishing: its key frees in a moment
            await asyncio.sleep(0.1)
        raise RuntimeError(f"job {key} could neither be queued nor joined")

    async def take_joiners(self, dedupe_key: str, *, close: bool) -> list[CheckJob]:
        raw = await self.redis.eval(
            _TAKE,
            2,
            self.joiners_key(dedupe_key),
            self.closed_key(dedupe_key),
            "1" if close else "0",
        )
        return [CheckJob.model_validate_json(item) for item in raw]

    async def reopen(self, dedupe_key: str) -> None:
        await self.redis.delete(self.closed_key(dedupe_key))

    def done_key(self, job_id: str) -> str:
        return str(self.queue.namespace(f"done:{job_id}"))

    async def finished(self, job_id: str) -> bool:
        """Whether a run of this lambda-why job already finished (see `saq_worker`)."""
        return bool(await self.redis.exists(self.done_key(job_id)))

    async def mark_finished(self, job_id: str) -> None:
        await self.redis.set(self.done_key(job_id), "1", ex=max(self.limits.ttl, 3600))

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self.redis.ping(), timeout=2))
        except Exception as exc:
            log.warning("redis ping failed: %s", exc)
            return False

    async def close(self) -> None:
        try:
            await self.queue.disconnect()
        except (OSError, RedisError) as exc:
            # shutting down: a Redis that is already gone has nothing left to release
            log.warning("redis disconnect failed: %s", exc)


def saq_worker(
    jobs: SaqJobQueue,
    function: JobFunction,
    *,
    concurrency: int = 4,
    burst: bool = False,
    sweep_interval: int = 10,
    shutdown_grace: int = 30,
    worker_id: str | None = None,
) -> Any:
    """A `saq.Worker` running `function` on the lambda-why queue.

    The job heartbeats every third of its heartbeat period; a worker killed mid-job stops
    heartbeating and saq's sweep (every `sweep_interval` s, on any live worker) re-queues the
    job. SIGTERM/SIGINT stop dequeuing and give running jobs `shutdown_grace` s to finish.
    """
    from saq import Worker

    async def run_job(ctx: dict[str, Any], *, job: dict[str, Any]) -> dict[str, Any]:
        saq_job = ctx["job"]
        parsed = JOB_ADAPTER.validate_python(job)
        key = parsed.dedupe_key()
        final = saq_job.attempts >= saq_job.retries

        async def beat() -> None:
            period = max(saq_job.heartbeat / 3, 0.5)
            while True:
                await asyncio.sleep(period)
                await saq_job.update()

        async def take(final: bool) -> list[CheckJob]:
            return await jobs.take_joiners(key, close=final)

        if await jobs.finished(parsed.id):
            # saq's sweep can re-queue a job it catches between dequeue and "active"
            # (tobymao/saq#277); a run that already finished must not post twice.
            log.warning("job %s already finished; not running it again", parsed.id)
            return {"skipped": "already finished"}
        heartbeat = asyncio.create_task(beat()) if saq_job.heartbeat else None
        try:
            result = await function(
                parsed, JobContext(take_joiners=take, final_attempt=final, attempt=saq_job.attempts)
            )
            await jobs.mark_finished(parsed.id)
            return result
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat

    async def after_process(ctx: dict[str, Any]) -> None:
        saq_job = ctx.get("job")
        if saq_job is not None:
            await jobs.reopen(saq_job.key)

    return Worker(
        jobs.queue,
        functions=[(JOB_FUNCTION, run_job)],
        id=worker_id,
        concurrency=concurrency,
        burst=burst,
        # a bounded dequeue lets an idle worker stop at once on SIGTERM
        dequeue_timeout=1.0,
        # in burst mode the upkeep loops must wake often, or stopping waits for them
        timers={
            "sweep": min(sweep_interval, 1) if burst else sweep_interval,
            "abort": 1,
            "schedule": 1,
            "worker_info": 1 if burst else 10,
        },
        after_process=after_process,
        shutdown_grace_period_s=shutdown_grace,
    )
