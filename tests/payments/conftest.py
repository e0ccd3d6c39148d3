"""Fixtures for the payments service: a fresh database per test (SQLite, and PostgreSQL when a
server is configured), migrated and seeded on request, its sessions, and a clock tests can move."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from payments import cli
from payments.adapters.db import make_engine, make_session_factory

POSTGRES_ENV = "EVENKEEL_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = f"{POSTGRES_ENV} is not set: PostgreSQL tests need a server"

# Noon in Chicago, 13:00 in New York, 10:00 in Los Angeles: the same calendar day everywhere we seed.
FIXED_NOW = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


class FakeClock:
    """A `Clock` that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its SQLAlchemy URL, drop it."""
    server = make_url(server_url).set(drivername="postgresql")
    admin_url = server.render_as_string(hide_password=False)
    name = f"evenkeel_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty, unmigrated database: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'payments.db'}"
        return
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(POSTGRES_SKIP_REASON)
    yield from _postgres_database(server_url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database only, for behaviour SQLite does not have."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(POSTGRES_SKIP_REASON)
    yield from _postgres_database(server_url)


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The database at the Alembic head, with no rows."""
    cli.migrate(database_url)
    return database_url


@pytest.fixture
def seeded_url(migrated_url: str) -> str:
    """The database at the Alembic head with the DESIGN.md demo accounts."""
    cli.seed(migrated_url, with_demo_agent=False)  # argon2 hashing is slow on purpose; console tests add agents
    return migrated_url


@pytest.fixture
def sessions(seeded_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(seeded_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FIXED_NOW)
