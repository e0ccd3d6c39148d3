"""The tracker and lock stores named in bot/endpoints*.yml work against real databases.

The embedded default (SQLite tracker store, in-memory lock store) always runs. The production
file (PostgreSQL tracker store, Redis lock store) runs when EVENKEEL_TEST_POSTGRES_URL and
EVENKEEL_TEST_REDIS_URL point at servers, and is skipped with that reason otherwise.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("EVENKEEL_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="EVENKEEL_TEST_POSTGRES_URL is not set: PostgreSQL tests need a server"
)
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="EVENKEEL_TEST_REDIS_URL is not set: Redis tests need a server")


def load_endpoints(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvailableEndpoints:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return AvailableEndpoints.read_endpoints(str(ROOT / "bot" / name))


async def round_trip(store: TrackerStore, domain: Domain) -> None:
    sender = f"t-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(
        sender,
        [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}), SlotSet("account_id", "A1001")],
        domain.slots,
    )
    await store.save(tracker)
    loaded = await store.retrieve(sender)
    assert loaded is not None
    assert loaded.get_slot("account_id") == "A1001"
    assert [e.as_dict()["event"] for e in loaded.events] == ["action", "user", "slot"]


async def test_embedded_default_is_sqlite_and_in_memory(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = load_endpoints(
        "endpoints.yml",
        {
            "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook",
            "ACTION_SERVER_TOKEN": "t",
            "TRACKER_SQLITE_PATH": str(tmp_path / "tracker.db"),
        },
        monkeypatch,
    )
    store = TrackerStore.create(endpoints.tracker_store, domain)
    assert isinstance(store, SQLTrackerStore) and store.engine.dialect.name == "sqlite"
    assert isinstance(LockStore.create(endpoints.lock_store), InMemoryLockStore)
    await round_trip(store, domain)
    assert (tmp_path / "tracker.db").exists()


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.production.yml"])
async def test_rasa_calls_the_action_server_with_its_token(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract C3 end to end: the action endpoint of each file, as Rasa reads it, gets through
    the real action server's token check; the same endpoint without the token does not."""
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from tests.actions.test_server import action_call, running_action_server

    token = f"contract-token-{uuid.uuid4().hex[:6]}"
    with running_action_server(token) as url:
        endpoints = load_endpoints(
            name,
            {
                "ACTION_ENDPOINT_URL": f"{url}/webhook",
                "ACTION_SERVER_TOKEN": token,
                "TRACKER_SQLITE_PATH": str(tmp_path / "t.db"),
                "TRACKER_DB_HOST": "h",
                "TRACKER_DB_PORT": "1",
                "TRACKER_DB_NAME": "d",
                "TRACKER_DB_USER": "u",
                "TRACKER_DB_PASSWORD": "p",
                "REDIS_HOST": "h",
                "REDIS_PORT": "1",
            },
            monkeypatch,
        )
        action = endpoints.action
        assert action is not None and action.token == token and action.token_name == "token"
        answer = await action.request(json=action_call("action_reprompt"), method="post", timeout=10)
        assert answer["events"] == []
        without = EndpointConfig(url=action.url)
        with pytest.raises(ClientResponseError) as refused:
            await without.request(json=action_call("action_reprompt"), method="post", timeout=10)
        assert refused.value.status == 403


@pytest.fixture
def production_env() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL database for the tracker store, dropped afterwards."""
    pg = urlparse(POSTGRES_URL or "")
    redis = urlparse(REDIS_URL or "")
    database = f"evenkeel_tracker_{uuid.uuid4().hex[:8]}"
    if POSTGRES_URL:  # production creates it in docker/postgres-init.sql
        run_sql(f'CREATE DATABASE "{database}"')
    yield {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook",
        "ACTION_SERVER_TOKEN": "t",
        "TRACKER_DB_HOST": pg.hostname or "127.0.0.1",
        "TRACKER_DB_PORT": str(pg.port or 5432),
        "TRACKER_DB_NAME": database,
        "TRACKER_DB_USER": pg.username or "postgres",
        "TRACKER_DB_PASSWORD": pg.password or "",
        "REDIS_HOST": redis.hostname or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
    }
    if POSTGRES_URL:
        run_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
        run_sql(f'DROP DATABASE IF EXISTS "{database}"')


def run_sql(statement: str) -> None:
    connection = psycopg2.connect(POSTGRES_URL)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@needs_postgres
@needs_redis
async def test_production_tracker_store_is_postgresql(
    domain: Domain, production_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = load_endpoints("endpoints.production.yml", production_env, monkeypatch)
    store = TrackerStore.create(endpoints.tracker_store, domain)
    assert isinstance(store, SQLTrackerStore) and store.engine.dialect.name == "postgresql"
    await round_trip(store, domain)
    store.engine.dispose()


@needs_postgres
@needs_redis
async def test_production_lock_store_serializes_one_conversation(
    production_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = load_endpoints("endpoints.production.yml", production_env, monkeypatch)
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, RedisLockStore)
    conversation = f"c-{uuid.uuid4().hex[:8]}"
    order: list[str] = []

    async def handle(name: str) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            order.append(f"{name} start")
            await asyncio.sleep(0.05)
            order.append(f"{name} end")

    await asyncio.gather(handle("a"), handle("b"))
    # The second message waits for the first: no interleaving.
    assert order in (["a start", "a end", "b start", "b end"], ["b start", "b end", "a start", "a end"])
