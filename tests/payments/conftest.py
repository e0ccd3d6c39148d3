"""Fixtures for the payments service: a fresh database per test (SQLite, and PostgreSQL when a
server is configured), migrated and seeded on request, its sessions, and a clock tests can move.

Migrating takes longer than the test it serves (about a second on PostgreSQL), so each session
(each xdist worker) migrates one template per backend once, and a test that wants a migrated
database gets its own copy of it: `CREATE DATABASE ... TEMPLATE` on PostgreSQL, a file copy on
SQLite. Every test still has a database of its own."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import TupleRow
from sqlalchemy.engine import URL, make_url
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


def _postgres_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """Create a uniquely named database on the server (empty, or a copy of `template`), yield its
    SQLAlchemy URL, drop it."""
    server, admin_url = _server(server_url)
    name = f"evenkeel_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield _database_url(server, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            _drop(conn, name)


def _server(server_url: str) -> tuple[URL, str]:
    """The server's URL, and the libpq URL psycopg connects with to create and drop databases."""
    server = make_url(server_url).set(drivername="postgresql")
    return server, server.render_as_string(hide_password=False)


def _database_url(server: URL, name: str) -> str:
    return server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def _drop(conn: psycopg.Connection[TupleRow], name: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


class MigratedTemplates:
    """This session's databases at the Alembic head, each made on first use: a SQLite file, and a
    PostgreSQL database per server. Nothing connects to them; tests get copies."""

    def __init__(self, folder: Path) -> None:
        self._sqlite = folder / "migrated.db"
        self._postgres: dict[str, str] = {}  # server URL -> template database name

    def sqlite(self) -> Path:
        if not self._sqlite.exists():
            partial = self._sqlite.with_name("migrating.db")  # a failed migration leaves no template
            cli.migrate(f"sqlite:///{partial}")
            partial.rename(self._sqlite)
        return self._sqlite

    def postgres(self, server_url: str) -> str:
        if server_url not in self._postgres:
            server, admin_url = _server(server_url)
            name = f"evenkeel_tmpl_{secrets.token_hex(6)}"
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
                try:
                    cli.migrate(_database_url(server, name))
                except BaseException:
                    _drop(conn, name)
                    raise
                # CREATE DATABASE refuses a template anyone is connected to.
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            self._postgres[server_url] = name
        return self._postgres[server_url]

    def drop(self) -> None:
        for server_url, name in self._postgres.items():
            with psycopg.connect(_server(server_url)[1], autocommit=True) as conn:
                _drop(conn, name)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated"))
    yield templates
    templates.drop()


def _copies_the_template(request: pytest.FixtureRequest) -> bool:
    """Whether the test asked for `migrated_url` (itself or through a fixture): then `database_url`
    is made as a copy of the template rather than empty and migrated after. A `migrated_url` asked
    for later, by `request.getfixturevalue`, is not among these names and migrates the slow way."""
    return "migrated_url" in request.fixturenames


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """An empty, unmigrated database: a SQLite file, or a fresh database on the PostgreSQL server.
    For a test that wants it migrated (`migrated_url`), the same database is a copy of the template."""
    migrated = _copies_the_template(request)
    if request.param == "sqlite":
        path = tmp_path / "payments.db"
        if migrated:
            shutil.copy(migrated_templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(POSTGRES_SKIP_REASON)
    yield from _postgres_database(server_url, migrated_templates.postgres(server_url) if migrated else None)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database only, for behaviour SQLite does not have."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(POSTGRES_SKIP_REASON)
    yield from _postgres_database(server_url)


@pytest.fixture
def migrated_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The database at the Alembic head, with no rows."""
    if not _copies_the_template(request):
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


# Settings that follow one another (payments/config.py:_derive_stripe_urls); `make` exports the
# first two, which would mask the derivation a test builds `Settings` to check.
DERIVED_STRIPE_ENV = ("STRIPE_API_BASE", "STRIPE_JS_URL", "LOCALSTRIPE_PORT")


@pytest.fixture
def no_stripe_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Stripe address in the environment: `Settings` derives them from what the test gives."""
    for name in DERIVED_STRIPE_ENV:
        monkeypatch.delenv(name, raising=False)
