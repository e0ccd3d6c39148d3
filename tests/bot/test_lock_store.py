"""bot/lock_store.py against a real Redis, from two processes at once (the way two rasa servers
share it). Skipped with the reason when EVENKEEL_TEST_REDIS_URL is unset or unreachable.

Rasa's own `RedisLockStore` fails the first test: in a trial run here under the same load, 15
turns ran while another turn held the lock and 44 of 60 rounds were stuck behind a lost ticket
(RasaHQ/rasa#9213). That is not asserted, because a race shows up by chance, not on every run."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import uuid
from urllib.parse import urlparse

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore

REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL", "")


def redis_unavailable() -> str | None:
    if not REDIS_URL:
        return "EVENKEEL_TEST_REDIS_URL is not set: lock store tests need a Redis server"
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as e:
        return f"Redis at {REDIS_URL} is unreachable: {e}"
    return None


UNAVAILABLE = redis_unavailable()
pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))


def store_for(prefix: str) -> AtomicRedisLockStore:
    url = urlparse(REDIS_URL)
    return AtomicRedisLockStore(
        EndpointConfig(url=url.hostname, port=url.port or 6379, db=int(url.path.strip("/") or 0), key_prefix=prefix)
    )


def replica(prefix: str, turns: int, results: multiprocessing.Queue[dict[str, int]]) -> None:
    """One rasa server: `turns` rounds of two messages of one conversation in flight at once.
    Counts turns that ran while another held the lock, and turns that waited over 2 s."""
    store = store_for(prefix)
    counter = redis.Redis.from_url(REDIS_URL)
    inside = f"{prefix}:inside"
    seen = {"done": 0, "overlapped": 0, "stalled": 0}

    async def turn() -> None:
        asked = time.monotonic()
        async with store.lock("conversation", wait_time_in_seconds=0.01):
            seen["stalled"] += time.monotonic() - asked > 2
            seen["overlapped"] += counter.incr(inside) > 1
            await asyncio.sleep(0.005)
            counter.decr(inside)
            seen["done"] += 1

    async def run() -> None:
        for _ in range(turns):
            await asyncio.wait_for(asyncio.gather(turn(), turn()), timeout=10)

    asyncio.run(run())
    results.put(seen)


def test_two_replicas_take_turns_without_overlap_or_lost_tickets() -> None:
    prefix = f"evenkeeltest{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[dict[str, int]] = context.Queue()
    replicas = [context.Process(target=replica, args=(prefix, 30, results)) for _ in range(2)]
    for process in replicas:
        process.start()
    for process in replicas:
        process.join(timeout=120)
    try:
        assert all(process.exitcode == 0 for process in replicas)
        seen = [results.get(timeout=5) for _ in replicas]
        assert seen == [{"done": 60, "overlapped": 0, "stalled": 0}] * 2
        assert store_for(prefix).get_lock("conversation") is None  # the last cleanup deleted it
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_tickets_are_served_in_issue_order() -> None:
    store = store_for(f"evenkeeltest{uuid.uuid4().hex[:8]}")
    tickets = [store.issue_ticket("c") for _ in range(3)]
    assert tickets == [0, 1, 2]
    lock = store.get_lock("c")
    assert lock is not None and not lock.is_locked(0) and lock.is_locked(1)
    store.cleanup("c", 0)
    lock = store.get_lock("c")
    assert lock is not None and not lock.is_locked(1)
    store.cleanup("c", 1)
    store.cleanup("c", 2)
    assert store.get_lock("c") is None
