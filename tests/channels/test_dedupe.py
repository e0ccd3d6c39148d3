"""De-duplication and short-lived state (channels/dedupe.py): in memory always, on Redis when
EVENKEEL_TEST_REDIS_URL points at a server (skipped with that reason otherwise)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from channels.dedupe import ChannelStore, InMemoryStore, RedisStore, build_store

REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="EVENKEEL_TEST_REDIS_URL is not set: Redis tests need a server")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=[needs_redis, pytest.mark.redis])])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ChannelStore]:
    if request.param == "memory":
        yield InMemoryStore(ttl_seconds=60)
        return
    redis_store = RedisStore(REDIS_URL or "", ttl_seconds=60, poll_seconds=0.02)
    yield redis_store
    await redis_store.close()


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


async def test_second_delivery_is_not_first_and_sees_the_result(store: ChannelStore) -> None:
    k = key()
    async with store.once(k) as first:
        assert first.first
        first.result = "<Response><Say>hi</Say></Response>"
    async with store.once(k) as second:
        assert not second.first
        assert second.result == "<Response><Say>hi</Say></Response>"


async def test_concurrent_deliveries_are_processed_once(store: ChannelStore) -> None:
    k = key()
    processed: list[int] = []

    async def deliver(n: int) -> str | None:
        async with store.once(k, wait_seconds=5) as claim:
            if claim.first:
                await asyncio.sleep(0.2)  # the first copy is still working when the others arrive
                processed.append(n)
                claim.result = f"answer {n}"
            return claim.result

    answers = await asyncio.gather(*(deliver(n) for n in range(5)))
    assert len(processed) == 1
    assert set(answers) == {f"answer {processed[0]}"}  # every copy gets the first one's answer


async def test_a_failed_first_copy_lets_the_next_copy_through(store: ChannelStore) -> None:
    k = key()
    with pytest.raises(RuntimeError):
        async with store.once(k) as claim:
            assert claim.first
            raise RuntimeError("rasa down")
    async with store.once(k) as retry:
        assert retry.first


async def test_different_keys_do_not_interfere(store: ChannelStore) -> None:
    async with store.once(key()) as a, store.once(key()) as b:
        assert a.first and b.first


async def test_values_lists_and_deletes(store: ChannelStore) -> None:
    k = key()
    assert await store.get(k) is None
    await store.set(k, {"buttons": [{"title": "Yes", "payload": "/affirm"}]}, 60)
    assert await store.get(k) == {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    await store.delete(k)
    assert await store.get(k) is None
    q = key()
    assert await store.pop_all(q) == []
    await store.push(q, {"text": "one"}, 60)
    await store.push(q, {"text": "two"}, 60)
    assert await store.pop_all(q) == [{"text": "one"}, {"text": "two"}]
    assert await store.pop_all(q) == []


async def test_in_memory_entries_expire() -> None:
    clock = Clock()
    store = InMemoryStore(ttl_seconds=60, clock=clock)
    async with store.once("SM1") as claim:
        assert claim.first
    await store.set("k", 1, 10)
    await store.push("q", "x", 10)
    clock.now += 11
    assert await store.get("k") is None
    assert await store.pop_all("q") == []
    async with store.once("SM1") as claim:
        assert not claim.first  # still within its TTL
    clock.now += 60
    async with store.once("SM1") as claim:
        assert claim.first  # forgotten after its TTL


async def test_in_memory_store_stays_bounded() -> None:
    clock = Clock()
    store = InMemoryStore(ttl_seconds=1, clock=clock)
    for n in range(600):
        async with store.once(f"SM{n}"):
            pass
        clock.now += 1
    assert len(store._seen) < 300
    assert store._locks == {} and store._waiters == {}


async def test_in_memory_values_are_copies() -> None:
    store = InMemoryStore()
    value = {"buttons": []}
    await store.set("k", value, 10)
    value["buttons"].append("changed")
    assert await store.get("k") == {"buttons": []}


@needs_redis
@pytest.mark.redis
async def test_redis_copy_gives_up_waiting_for_a_slow_first_copy() -> None:
    store = RedisStore(REDIS_URL or "", ttl_seconds=60, poll_seconds=0.02)
    k = key()
    try:
        started = asyncio.Event()

        async def slow_first() -> None:
            async with store.once(k) as claim:
                assert claim.first
                started.set()
                await asyncio.sleep(0.5)
                claim.result = "done"

        task = asyncio.create_task(slow_first())
        await started.wait()
        async with store.once(k, wait_seconds=0.1) as claim:
            assert not claim.first and claim.result is None  # the voice connector asks Twilio to come back
        await task
        async with store.once(k) as claim:
            assert claim.result == "done"
    finally:
        await store.close()


def test_build_store_picks_redis_only_when_configured() -> None:
    assert isinstance(build_store("", 60), InMemoryStore)
    assert isinstance(build_store("redis://127.0.0.1:6379/1", 60), RedisStore)
