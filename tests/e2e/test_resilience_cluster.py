"""Two rasa servers sharing one PostgreSQL tracker store and one Redis lock store (the production
shape, bot/endpoints.production.yml), one action server and the payments service. Skipped with
the reason when EVENKEEL_TEST_POSTGRES_URL or EVENKEEL_TEST_REDIS_URL is unset or unreachable.

What "in order" can mean when messages arrive at two servers at once: the lock store gives each
message a ticket when its server starts handling it and serves tickets first come, first served,
one at a time. It cannot order two messages whose tickets are not yet issued (that is a race the
sender loses either way). So the test sends message N+1 to the other server only once message N
holds its ticket (seen in Redis) or has been answered, without waiting for N's reply otherwise;
several messages are then in flight at once on both servers. Given that, the guarantee is exact:
the tracker must hold every message once, in send order, each followed by the bot's whole turn
(the texts that message's HTTP reply carried) before the next message. Each answer also depends
on the turn before it (verification asks for one factor after another), so a message processed
against a stale tracker would get a wrong answer.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from testkit.stack import ACTION_SERVER_TOKEN, Stack, new_conversation

POSTGRES_URL = os.environ.get("EVENKEEL_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL", "")


class RedisConnection:
    """Just enough of the Redis protocol for GET, DEL and PING (the e2e venv has no Redis client)."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self._socket = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=5)
        self._file = self._socket.makefile("rb")
        if parsed.path.strip("/"):
            self.command("SELECT", parsed.path.strip("/"))

    def command(self, *args: str) -> object:
        encoded = [a.encode() for a in args]
        self._socket.sendall(b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded))
        return self._read()

    def _read(self) -> object:
        line = self._file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if int(rest) < 0 else self._file.read(int(rest) + 2)[:-2]
        if kind == b"*":
            return [self._read() for _ in range(int(rest))]
        return rest

    def close(self) -> None:
        self._socket.close()


def unavailable() -> str | None:
    """Why this module cannot run here, or None."""
    for name, url in (("EVENKEEL_TEST_POSTGRES_URL", POSTGRES_URL), ("EVENKEEL_TEST_REDIS_URL", REDIS_URL)):
        if not url:
            return f"{name} is not set: two rasa servers need PostgreSQL and Redis"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
        RedisConnection(REDIS_URL).close()
    except (OSError, psycopg.Error) as e:
        return f"PostgreSQL or Redis is unreachable: {e}"
    return None


UNAVAILABLE = unavailable()
pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))


def run_sql(statement: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(statement)


def endpoints_file(path: Path, stack: Stack, database: str, key_prefix: str) -> Path:
    """bot/endpoints.production.yml's stores, pointed at this test's database and key prefix."""
    pg, redis = urlparse(POSTGRES_URL), urlparse(REDIS_URL)
    path.write_text(f"""\
action_endpoint:
  url: http://127.0.0.1:{stack.actions_port}/webhook
  token: {ACTION_SERVER_TOKEN}
tracker_store:
  type: SQL
  dialect: postgresql
  url: {pg.hostname or "127.0.0.1"}
  port: {pg.port or 5432}
  db: {database}
  username: {pg.username or "postgres"}
  password: "{pg.password or ""}"
lock_store:
  type: bot.lock_store.AtomicRedisLockStore
  url: {redis.hostname or "127.0.0.1"}
  port: {redis.port or 6379}
  db: {redis.path.strip("/") or 0}
  key_prefix: {key_prefix}
""")
    return path


@pytest.fixture(scope="module")
def cluster(trained_model: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, str]]:
    """The stack with its rasa server and a second one ("rasa_b"); their URLs and the lock key prefix."""
    suffix = uuid.uuid4().hex[:10]
    database, key_prefix = f"evenkeel_cluster_{suffix}", f"evenkeelcluster{suffix}"
    run_sql(f'CREATE DATABASE "{database}"')
    try:
        workdir = tmp_path_factory.mktemp("cluster")
        stack = Stack(workdir)
        stack.rasa_endpoints = str(endpoints_file(workdir / "endpoints.yml", stack, database, key_prefix))
        with stack.running(extra_rasa=("rasa_b",)):
            yield stack, f"http://127.0.0.1:{stack.extra_rasa_ports['rasa_b']}", key_prefix
    finally:
        run_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
        run_sql(f'DROP DATABASE IF EXISTS "{database}"')


def tickets(redis: RedisConnection, key: str) -> set[int]:
    stored = redis.command("GET", key)
    if not stored:
        return set()
    return {json.loads(t)["number"] for t in json.loads(stored)["tickets"]}


def test_one_conversation_across_two_servers_is_processed_once_and_in_order(cluster: tuple[Stack, str, str]) -> None:
    stack, rasa_b, key_prefix = cluster
    sender = new_conversation("cluster")
    lock_key = f"{key_prefix}:lock:{sender}"
    messages = [
        "hello",
        "4821",
        "03/14/1985",
        "78701",
        "what's my balance?",
        "I'd like to set up a payment plan",
        "2",
        "no",
    ]
    servers = [stack.rasa_url, rasa_b] * (len(messages) // 2)
    replies: dict[int, list[str]] = {}
    redis = RedisConnection(REDIS_URL)

    def send(n: int) -> None:
        replies[n] = stack.say(sender, messages[n], rasa_url=servers[n])

    threads = []
    for n in range(len(messages)):
        before = tickets(redis, lock_key)
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
        # Next message only once this one holds a ticket (a number not there before) or is answered.
        deadline = time.monotonic() + 60
        while not (tickets(redis, lock_key) - before) and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.002)
    for thread in threads:
        thread.join(timeout=120)
    redis.close()
    assert sorted(replies) == list(range(len(messages))), "a message got no HTTP answer"

    events = stack.tracker(sender)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert [events[i]["text"] for i in users] == messages  # each once, in send order
    for n, (start, end) in enumerate(zip(users, users[1:] + [len(events)], strict=False)):
        turn = events[start + 1 : end]
        assert [e["text"] for e in turn if e["event"] == "bot"] == replies[n], messages[n]
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen", messages[n]

    assert any("last 4 digits" in t for t in replies[0])
    assert any("date of birth" in t for t in replies[1])
    assert any("ZIP code" in t for t in replies[2])
    assert any("you're verified" in t for t in replies[3])
    assert any("$2,450.00" in t for t in replies[4])
    assert "2. 6 monthly payments of $51.66" in "\n".join(replies[5])
    assert "Do you agree to this plan" in " ".join(replies[6])
    assert stack.account_api("A1001", "GET", "/api/accounts/A1001/plans").json() == []  # "no": nothing booked
    assert RedisConnection(REDIS_URL).command("GET", lock_key) is None  # the last turn released the lock
