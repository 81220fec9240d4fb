"""Both stores behave the same (Redis one on a private DB)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack.refs import ThreadRef
from bot.slack.store import MemoryStore, RedisStore, Store, StoredResult

from .conftest import FUNCTION, finding, make_report, make_snapshot


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else RedisStore.from_url(redis_url)
    yield made
    await made.close()


async def test_results_round_trip(store: Store) -> None:
    thread = ThreadRef(channel="C1", thread_ts="1.1", parent_ts="1.1")
    result = StoredResult(
        thread=thread,
        function_ref=FUNCTION,
        requested_by="U1",
        report=make_report([finding("kms", actions=["kms:Decrypt"])]),
        snapshot=make_snapshot(),
    )
    await store.save_result(result)
    loaded = await store.load_result(thread.key)
    assert loaded == result
    assert loaded.report.to_json_dict() == result.report.to_json_dict()
    assert await store.load_result("C1:9.9") is None
    await store.save_escalation(thread.key, {"pattern": "continuous"})
    assert await store.load_escalation(thread.key) == {"pattern": "continuous"}


async def test_claim_once(store: Store) -> None:
    assert await store.claim("event:Ev1", 60)
    assert not await store.claim("event:Ev1", 60)
    assert await store.claim("event:Ev2", 60)


async def test_rate_limit_window(store: Store) -> None:
    assert [await store.allow("U1", 2, 60) for _ in range(3)] == [True, True, False]
    assert await store.allow("U2", 2, 60)


async def test_account_slots(store: Store) -> None:
    assert await store.acquire_slot("111", "job-a", 1, 60)
    assert await store.acquire_slot("111", "job-a", 1, 60)  # the holder again
    assert not await store.acquire_slot("111", "job-b", 1, 60)
    assert await store.acquire_slot("222", "job-b", 1, 60)
    await store.release_slot("111", "job-a")
    assert await store.acquire_slot("111", "job-b", 1, 60)


async def test_expired_slot_lease_is_reclaimed(store: Store) -> None:
    assert await store.acquire_slot("111", "dead-job", 1, 0)
    assert await store.acquire_slot("111", "live-job", 1, 60)


async def test_progress(store: Store) -> None:
    thread = ThreadRef(channel="C1", thread_ts="1.1", parent_ts="1.2")
    await store.set_progress("job-1", thread)
    assert await store.get_progress("job-1") == thread
    assert await store.get_progress("job-2") is None


def test_memory_store_is_bounded() -> None:
    memory = MemoryStore(max_entries=3)
    for index in range(5):
        memory._put(f"k{index}", "v", 60)
    assert list(memory._values) == ["k2", "k3", "k4"]
