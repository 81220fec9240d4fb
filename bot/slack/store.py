"""Shared state of the Slack app: results by thread, idempotency, rate limits, progress.

Two implementations of one `Store` protocol: `RedisStore` (with `REDIS_URL`: shared by the
web process and every worker, entries expire) and `MemoryStore` (one process, `serve`
without Redis). Keys live under one prefix so tests can use a private namespace.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any, Protocol

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.report import Report
from bot.slack.refs import ThreadRef
from bot.snapshot import Snapshot

#: results are kept this long for Rerun and Export
DEFAULT_RESULT_TTL = 7 * 24 * 3600


class StoredResult(BaseModel):
    """A finished check, as Rerun and Export need it."""

    thread: ThreadRef
    function_ref: str
    account: str | None = None
    requested_by: str
    report: Report
    snapshot: Snapshot | None = None


class Store(Protocol):
    async def save_result(self, result: StoredResult) -> None: ...
    async def load_result(self, thread_key: str) -> StoredResult | None: ...
    async def save_escalation(self, thread_key: str, answers: dict[str, Any]) -> None: ...
    async def load_escalation(self, thread_key: str) -> dict[str, Any] | None: ...
    async def claim(self, key: str, ttl: int) -> bool:
        """True the first time `key` is seen within `ttl` seconds (idempotency)."""
        ...

    async def allow(self, user: str, limit: int, window: int) -> bool:
        """Count one request of `user`; False when more than `limit` fell in `window` s."""
        ...

    async def set_progress(self, job_id: str, thread: ThreadRef) -> None: ...
    async def get_progress(self, job_id: str) -> ThreadRef | None: ...
    async def acquire_slot(self, account: str, holder: str, limit: int, lease: int) -> bool:
        """Take one of `limit` concurrent check slots of an account, for `lease` seconds."""
        ...

    async def release_slot(self, account: str, holder: str) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryStore:
    """In-process store for `serve` without Redis (bounded: oldest entries go first)."""

    def __init__(self, result_ttl: int = DEFAULT_RESULT_TTL, max_entries: int = 5000) -> None:
        self._ttl = result_ttl
        self._max = max_entries
        self._values: dict[str, tuple[float, str]] = {}
        self._hits: dict[str, deque[float]] = {}
        self._slots: dict[str, dict[str, float]] = {}

    def _put(self, key: str, value: str, ttl: int) -> None:
        self._values.pop(key, None)
        self._values[key] = (time.monotonic() + ttl, value)
        if len(self._values) > self._max:
            now = time.monotonic()
            for old in [k for k, (expiry, _) in self._values.items() if expiry < now]:
                del self._values[old]
            while len(self._values) > self._max:
                del self._values[next(iter(self._values))]

    def _get(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._values[key]
            return None
        return entry[1]

    async def save_result(self, result: StoredResult) -> None:
        self._put(f"result:{result.thread.key}", result.model_dump_json(by_alias=True), self._ttl)

    async def load_result(self, thread_key: str) -> StoredResult | None:
        raw = self._get(f"result:{thread_key}")
        return StoredResult.model_validate_json(raw) if raw else None

    async def save_escalation(self, thread_key: str, answers: dict[str, Any]) -> None:
        self._put(f"escalation:{thread_key}", json.dumps(answers), self._ttl)

    async def load_escalation(self, thread_key: str) -> dict[str, Any] | None:
        raw = self._get(f"escalation:{thread_key}")
        return dict(json.loads(raw)) if raw else None

    async def claim(self, key: str, ttl: int) -> bool:
        if self._get(f"claim:{key}") is not None:
            return False
        self._put(f"claim:{key}", "1", ttl)
        return True

    async def allow(self, user: str, limit: int, window: int) -> bool:
        now = time.monotonic()
        hits = self._hits.setdefault(user, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    async def set_progress(self, job_id: str, thread: ThreadRef) -> None:
        self._put(f"progress:{job_id}", thread.model_dump_json(), 24 * 3600)

    async def get_progress(self, job_id: str) -> ThreadRef | None:
        raw = self._get(f"progress:{job_id}")
        return ThreadRef.model_validate_json(raw) if raw else None

    async def acquire_slot(self, account: str, holder: str, limit: int, lease: int) -> bool:
        now = time.monotonic()
        slots = self._slots.setdefault(account, {})
        for key, expiry in list(slots.items()):
            if expiry < now:
                del slots[key]
        if holder in slots or len(slots) < limit:
            slots[holder] = now + lease
            return True
        return False

    async def release_slot(self, account: str, holder: str) -> None:
        self._slots.get(account, {}).pop(holder, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return 1
end
return 0
"""

_RATE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisStore:
    """Redis-backed store shared by `serve` and `worker` processes."""

    def __init__(
        self, redis: Redis, *, prefix: str = "lambda-why", result_ttl: int = DEFAULT_RESULT_TTL
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self._ttl = result_ttl
        self._counter = 0

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "lambda-why") -> RedisStore:
        return cls(Redis.from_url(url), prefix=prefix)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def save_result(self, result: StoredResult) -> None:
        await self.redis.set(
            self._key("result", result.thread.key),
            result.model_dump_json(by_alias=True),
            ex=self._ttl,
        )

    async def load_result(self, thread_key: str) -> StoredResult | None:
        raw = await self.redis.get(self._key("result", thread_key))
        return StoredResult.model_validate_json(raw) if raw else None

    async def save_escalation(self, thread_key: str, answers: dict[str, Any]) -> None:
        await self.redis.set(self._key("escalation", thread_key), json.dumps(answers), ex=self._ttl)

    async def load_escalation(self, thread_key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self._key("escalation", thread_key))
        return dict(json.loads(raw)) if raw else None

    async def claim(self, key: str, ttl: int) -> bool:
        return bool(await self.redis.set(self._key("claim", key), "1", ex=ttl, nx=True))

    async def allow(self, user: str, limit: int, window: int) -> bool:
        now = time.time()
        self._counter += 1
        member = f"{now}:{id(self)}:{self._counter}"
        allowed = await self.redis.eval(  # type: ignore[misc]
            _RATE, 1, self._key("rate", user), now - window, limit, now, member, window + 1
        )
        return bool(allowed)

    async def set_progress(self, job_id: str, thread: ThreadRef) -> None:
        await self.redis.set(self._key("progress", job_id), thread.model_dump_json(), ex=24 * 3600)

    async def get_progress(self, job_id: str) -> ThreadRef | None:
        raw = await self.redis.get(self._key("progress", job_id))
        return ThreadRef.model_validate_json(raw) if raw else None

    async def acquire_slot(self, account: str, holder: str, limit: int, lease: int) -> bool:
        now = time.time()
        taken = await self.redis.eval(  # type: ignore[misc]
            _ACQUIRE, 1, self._key("slots", account), now, holder, limit, now + lease, lease + 60
        )
        return bool(taken)

    async def release_slot(self, account: str, holder: str) -> None:
        await self.redis.zrem(self._key("slots", account), holder)

    async def ping(self) -> bool:
        try:
            pong: Any = self.redis.ping()
            return bool(await asyncio.wait_for(pong, timeout=2))
        except (OSError, TimeoutError, RedisError):
            return False

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        except (OSError, RedisError):
            return
