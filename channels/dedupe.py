"""Processing each Twilio webhook once, and the little short-lived state the connectors keep.

Twilio retries a webhook that timed out or failed, and with connection overrides may send it
again while the first copy is still being handled. Each delivery is keyed (SMS: `MessageSid`;
voice: `CallSid` + the turn token we put in every action URL) and `once(key)` lets exactly one
copy through:

- `InMemoryStore`: an asyncio lock per key plus a seen-map with a TTL. A second copy waits for
  the first to finish, then gets what the first stored (voice replays the same TwiML). If the
  first copy failed, the key is not marked and the second one is processed instead. One process.
- `RedisStore`: `SET key pending NX EX ttl` claims the key for the whole deployment, so several
  rasa replicas behind a load balancer still process a delivery once; the result replaces
  the claim, a failure deletes it. A second copy polls for the result for up to `wait_seconds`.

The same store keeps per-conversation memories with a TTL: the buttons an SMS customer can
answer by number, a call's last prompt and silence count, a call's queued pushed messages, a
handoff's whisper summary. In memory that state is per process: with several rasa replicas set
CHANNELS_REDIS_URL, or keep Twilio's traffic for one number on one replica.

It also holds the revocations and reports the payments service has not confirmed yet
(channels/revocation.py): one key each, found again with `keys(prefix)` after a restart or by
another replica, and sent under a lease taken with `add` (set if absent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

KEY_PREFIX = "evenkeel:channels:"
_PENDING = "__pending__"


@dataclass
class Claim:
    """The outcome of `once(key)`: `first` is True for the copy that does the work, which may set
    `result` (a str) for later copies; a later copy sees the first one's `result`, or None
    when the first is still running (Redis, after `wait_seconds`)."""

    first: bool
    result: str | None = None


class ChannelStore(Protocol):
    def once(self, key: str, wait_seconds: float = 10.0) -> contextlib.AbstractAsyncContextManager[Claim]: ...

    async def get(self, key: str) -> Any: ...

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def push(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def pop_all(self, key: str) -> list[Any]: ...

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool: ...

    async def keys(self, prefix: str) -> list[str]: ...

    async def close(self) -> None: ...


@dataclass
class _Entry:
    value: Any
    expires_at: float


@dataclass
class InMemoryStore:
    """One process's memory. `clock` is injectable so tests can expire entries."""

    ttl_seconds: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, _Entry] = field(default_factory=dict)
    _values: dict[str, _Entry] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _waiters: dict[str, int] = field(default_factory=dict)
    _writes: int = 0

    @contextlib.asynccontextmanager
    async def once(self, key: str, wait_seconds: float = 10.0) -> AsyncIterator[Claim]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                seen = self._live(self._seen, key)
                if seen is not None:
                    yield Claim(first=False, result=seen.value)
                    return
                claim = Claim(first=True)
                yield claim  # an exception here leaves the key unmarked: a retry is processed
                self._seen[key] = _Entry(claim.result, self.clock() + self.ttl_seconds)
                self._sweep()
        finally:
            self._waiters[key] -= 1
            if self._waiters[key] == 0:
                del self._waiters[key]
                self._locks.pop(key, None)

    async def get(self, key: str) -> Any:
        entry = self._live(self._values, key)
        return None if entry is None else json.loads(entry.value)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        # Stored as JSON text, as in Redis, so a caller never shares a mutable object with the store.
        self._values[key] = _Entry(json.dumps(value), self.clock() + ttl_seconds)
        self._sweep()

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def push(self, key: str, value: Any, ttl_seconds: float) -> None:
        entry = self._live(self._values, key)
        items = json.loads(entry.value) if entry is not None else []
        items.append(value)
        await self.set(key, items, ttl_seconds)

    async def pop_all(self, key: str) -> list[Any]:
        entry = self._values.pop(key, None)
        if entry is None or entry.expires_at <= self.clock():
            return []
        return list(json.loads(entry.value))

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        """Set `key` only if it holds nothing live; True when this call set it (a lease)."""
        if self._live(self._values, key) is not None:
            return False
        await self.set(key, value, ttl_seconds)
        return True

    async def keys(self, prefix: str) -> list[str]:
        """The live keys starting with `prefix` (set/push keys, not `once` keys)."""
        return [key for key in list(self._values) if key.startswith(prefix) and self._live(self._values, key)]

    async def close(self) -> None:
        return None

    def _live(self, table: dict[str, _Entry], key: str) -> _Entry | None:
        entry = table.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            del table[key]
            return None
        return entry

    def _sweep(self) -> None:
        """Drop expired entries now and then, so memory stays bounded by the TTL."""
        self._writes += 1
        if self._writes % 256:
            return
        now = self.clock()
        for table in (self._seen, self._values):
            for key in [k for k, e in table.items() if e.expires_at <= now]:
                del table[key]


class RedisStore:
    """Shared by every rasa replica. Values are JSON; keys live under `evenkeel:channels:`."""

    def __init__(self, url: str, ttl_seconds: float = 3600.0, poll_seconds: float = 0.1) -> None:
        import redis.asyncio as redis  # redis>=4.2, in Rasa's environment

        self.ttl_seconds = ttl_seconds
        self.poll_seconds = poll_seconds
        self._redis = redis.from_url(url, decode_responses=True)

    @contextlib.asynccontextmanager
    async def once(self, key: str, wait_seconds: float = 10.0) -> AsyncIterator[Claim]:
        full = KEY_PREFIX + "once:" + key
        ttl = max(1, int(self.ttl_seconds))
        deadline = time.monotonic() + wait_seconds
        while True:
            if await self._redis.set(full, _PENDING, nx=True, ex=ttl):
                claim = Claim(first=True)
                try:
                    yield claim
                except BaseException:
                    await self._redis.delete(full)
                    raise
                await self._redis.set(full, json.dumps({"result": claim.result}), ex=ttl)
                return
            value = await self._redis.get(full)
            if value is None:
                continue  # the first copy failed and let go: this one takes over
            if value != _PENDING:
                yield Claim(first=False, result=json.loads(value).get("result"))
                return
            if time.monotonic() >= deadline:
                yield Claim(first=False, result=None)
                return
            await asyncio.sleep(self.poll_seconds)

    async def get(self, key: str) -> Any:
        value = await self._redis.get(KEY_PREFIX + key)
        return None if value is None else json.loads(value)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._redis.set(KEY_PREFIX + key, json.dumps(value), ex=max(1, int(ttl_seconds)))

    async def delete(self, key: str) -> None:
        await self._redis.delete(KEY_PREFIX + key)

    async def push(self, key: str, value: Any, ttl_seconds: float) -> None:
        full = KEY_PREFIX + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(full, json.dumps(value))
            pipe.expire(full, max(1, int(ttl_seconds)))
            await pipe.execute()

    async def pop_all(self, key: str) -> list[Any]:
        full = KEY_PREFIX + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(full, 0, -1)
            pipe.delete(full)
            items, _ = await pipe.execute()
        return [json.loads(item) for item in items]

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        """`SET NX EX`: True when this call set it (a lease every replica respects)."""
        return bool(await self._redis.set(KEY_PREFIX + key, json.dumps(value), nx=True, ex=max(1, int(ttl_seconds))))

    async def keys(self, prefix: str) -> list[str]:
        """The keys starting with `prefix` (SCAN, so Redis is never blocked); `prefix` holds no glob characters."""
        found = [key async for key in self._redis.scan_iter(match=KEY_PREFIX + prefix + "*", count=500)]
        return [key[len(KEY_PREFIX) :] for key in found]

    async def close(self) -> None:
        await self._redis.close()


def build_store(redis_url: str, ttl_seconds: float) -> ChannelStore:
    """Redis when CHANNELS_REDIS_URL is set, else this process's memory."""
    if redis_url:
        log.info("Twilio connectors keep de-duplication and conversation state in Redis")
        return RedisStore(redis_url, ttl_seconds)
    return InMemoryStore(ttl_seconds=ttl_seconds)
