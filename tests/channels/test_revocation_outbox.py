"""The durable retry queue of channels/revocation.py: a revocation or report the payments service
could not take is in the channel store before the customer is told it is being recorded, and a
new desk on the same store (a restart; another replica, with Redis) sends it once the service is
up, exactly once. In memory always; on Redis when EVENKEEL_TEST_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from channels.dedupe import ChannelStore, InMemoryStore, RedisStore
from channels.revocation import RECORDED, REFUSED, UNAVAILABLE, RevocationDesk

REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="EVENKEEL_TEST_REDIS_URL is not set: Redis tests need a server")
PHONE = "+15125550101"


class Ledger:
    """The payments service: down (UNAVAILABLE) until `up` is set; records what it took."""

    def __init__(self, up: bool = False, delay: float = 0.0) -> None:
        self.up = up
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.recorded: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []

    async def _answer(self, body: dict[str, Any], into: list[dict[str, Any]]) -> str:
        self.calls.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.up:
            return UNAVAILABLE
        into.append(body)
        return RECORDED

    async def record(self, body: dict[str, Any]) -> str:
        return await self._answer(body, self.recorded)

    async def report(self, body: dict[str, Any]) -> str:
        return await self._answer(body, self.reports)


@pytest.fixture(params=["memory", pytest.param("redis", marks=[needs_redis, pytest.mark.redis])])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ChannelStore]:
    if request.param == "memory":
        yield InMemoryStore(ttl_seconds=60)
        return
    redis_store = RedisStore(REDIS_URL or "", ttl_seconds=60)
    yield redis_store
    for key in await redis_store.keys("test-outbox-"):  # items are kept for days: leave none behind
        await redis_store.delete(key)
    await redis_store.close()


@pytest.fixture
def outbox() -> str:
    """A namespace of its own per test, so Redis runs never see each other's items."""
    return f"test-outbox-{uuid.uuid4().hex[:8]}"


async def wait_until_empty(desk: RevocationDesk, seconds: float = 5.0) -> None:
    async def empty() -> None:
        while await desk.pending():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(empty(), seconds)


async def test_a_revocation_with_the_service_down_is_in_the_store_before_the_answer(
    store: ChannelStore, outbox: str
) -> None:
    ledger = Ledger(up=False)
    desk = RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01,))
    answer = await desk.handle(
        "stop texting me, card 4111 1111 1111 1111", channel="sms", conversation_id=PHONE, phone=PHONE
    )
    assert answer is not None and "We're recording" in answer.text
    keys = await store.keys(f"{outbox}:item:")
    assert len(keys) == 1
    item = await store.get(keys[0])
    assert item["kind"] == "revocation" and item["attempts"] == 1
    assert item["body"] == {
        "phone": PHONE,
        "account_id": None,
        "conversation_id": PHONE,
        "channel": "sms",
        "media": ["sms"],
        "cease": False,
        "inconvenient": None,
        "summary": "stop texting me, card [card number removed]",
    }
    assert await store.keys(f"{outbox}:lease:") == []  # the first attempt let go of it


async def test_a_restarted_desk_on_the_same_store_records_it_once_the_service_is_up(
    store: ChannelStore, outbox: str
) -> None:
    before = RevocationDesk(Ledger(up=False), store=store, outbox=outbox, retry_delays=(0.01,))
    await before.handle("cease all communication", channel="voice", conversation_id="voice-CA1", phone=PHONE)
    report = await before.report("I filed chapter 7", channel="sms", conversation_id=PHONE, phone=PHONE)
    assert report is not None and "We're recording" in report.text
    del before  # the process is gone: nothing of it but the store

    ledger = Ledger(up=True)
    after = RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01,), poll_seconds=0.05)
    after.start()
    try:
        await wait_until_empty(after)
        await asyncio.sleep(0.2)  # more passes: nothing is sent again
    finally:
        await after.stop()
    assert [b["cease"] for b in ledger.recorded] == [True]
    assert [r["kind"] for r in ledger.reports] == ["bankruptcy"]
    assert len(ledger.calls) == 2
    assert await store.keys(f"{outbox}:") == []


async def test_retries_go_on_past_the_listed_delays_until_the_service_answers(store: ChannelStore, outbox: str) -> None:
    ledger = Ledger(up=False)
    desk = RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01, 0.02), poll_seconds=0.05)
    await desk.handle("don't call me", channel="sms", conversation_id=PHONE, phone=PHONE)
    desk.start()
    try:
        while len(ledger.calls) < 5:
            await asyncio.sleep(0.01)
        assert len(await desk.pending()) == 1
        ledger.up = True
        await wait_until_empty(desk)
    finally:
        await desk.stop()
    assert len(ledger.recorded) == 1


async def test_two_replicas_draining_one_store_send_each_item_once(store: ChannelStore, outbox: str) -> None:
    first = RevocationDesk(Ledger(up=False), store=store, outbox=outbox, retry_delays=(0.01,))
    for n in range(5):
        await first.handle("stop calling me", channel="sms", conversation_id=f"+1512555010{n}", phone=f"+1512555010{n}")
    ledger = Ledger(up=True, delay=0.05)  # slow answers: the replicas overlap
    replicas = [
        RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01,), poll_seconds=0.02) for _ in range(3)
    ]
    for replica in replicas:
        replica.start()
    try:
        await wait_until_empty(replicas[0])
        await asyncio.sleep(0.2)
    finally:
        for replica in replicas:
            await replica.stop()
    assert sorted(b["phone"] for b in ledger.recorded) == [f"+1512555010{n}" for n in range(5)]
    assert len(ledger.calls) == 5


async def test_the_first_attempt_holds_a_lease_so_a_drain_does_not_send_it_meanwhile(
    store: ChannelStore, outbox: str
) -> None:
    ledger = Ledger(up=True, delay=0.3)
    desk = RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01,), poll_seconds=0.02)
    drain = RevocationDesk(ledger, store=store, outbox=outbox, retry_delays=(0.01,), poll_seconds=0.02)
    drain.start()
    try:
        answer = await desk.handle("stop texting me", channel="sms", conversation_id=PHONE, phone=PHONE)
        await asyncio.sleep(0.1)
    finally:
        await drain.stop()
    assert answer is not None and "We've recorded" in answer.text
    assert len(ledger.calls) == 1
    assert await store.keys(f"{outbox}:") == []


async def test_a_refusal_on_retry_is_logged_and_dropped(
    store: ChannelStore, outbox: str, caplog: pytest.LogCaptureFixture
) -> None:
    desk = RevocationDesk(Ledger(up=False), store=store, outbox=outbox, retry_delays=(0.01,))
    await desk.handle("stop texting me", channel="sms", conversation_id=PHONE, phone=PHONE)

    class Refusing(Ledger):
        async def record(self, body: dict[str, Any]) -> str:
            self.calls.append(body)
            return REFUSED

    refusing = Refusing()
    caplog.set_level(logging.ERROR)
    await asyncio.sleep(0.02)
    await RevocationDesk(refusing, store=store, outbox=outbox, retry_delays=(0.01,)).retry_due()
    assert len(refusing.calls) == 1 and await store.keys(f"{outbox}:") == []
    assert "refused by the payments service on retry" in caplog.text


async def test_an_item_older_than_the_limit_is_logged_at_error_without_the_words_and_dropped(
    store: ChannelStore, outbox: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_000_000.0]
    desk = RevocationDesk(Ledger(up=False), store=store, outbox=outbox, retry_delays=(0.01,), clock=lambda: now[0])
    await desk.handle("stop calling me, card 4111 1111 1111 1111", channel="sms", conversation_id=PHONE, phone=PHONE)
    now[0] += 8 * 24 * 3600
    ledger = Ledger(up=True)
    caplog.set_level(logging.DEBUG)
    await RevocationDesk(ledger, store=store, outbox=outbox, clock=lambda: now[0]).retry_due()
    assert ledger.calls == [] and await store.keys(f"{outbox}:") == []
    [dropped] = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped.levelno == logging.ERROR
    logged = caplog.text
    assert (
        "stop calling" not in logged and "4111" not in logged and "5550101" not in logged and "+1512***0101" in logged
    )


async def test_with_the_store_down_the_item_is_kept_in_memory_and_stored_when_it_is_back(outbox: str) -> None:
    class Flaky(InMemoryStore):
        down = True

        async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
            if self.down:
                raise ConnectionError("redis is down")
            await super().set(key, value, ttl_seconds)

    store = Flaky(ttl_seconds=60)
    desk = RevocationDesk(Ledger(up=False), store=store, outbox=outbox, retry_delays=(0.01,))
    answer = await desk.handle("stop texting me", channel="sms", conversation_id=PHONE, phone=PHONE)
    assert answer is not None and "We're recording" in answer.text
    assert await store.keys(f"{outbox}:item:") == [] and len(await desk.pending()) == 1
    store.down = False
    await asyncio.sleep(0.02)
    await desk.retry_due()  # stored again first, then tried (still down)
    assert len(await store.keys(f"{outbox}:item:")) == 1
    assert len(await desk.pending()) == 1
