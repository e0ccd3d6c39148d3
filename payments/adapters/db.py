"""Engine and session factories. Nothing connects at import time."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from payments.domain.errors import InvalidRequest


def make_engine(database_url: str) -> Engine:
    """An engine for SQLite (creating the file's folder) or PostgreSQL (`postgresql+psycopg://`)."""
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "before_cursor_execute", _refuse_nul_characters)
    return engine


def _refuse_nul_characters(_conn, _cursor, _statement, parameters, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL (psycopg raises DataError: a 500 for `/api/accounts/A%00`
    or a NUL in any body field). Refuse it as a bad request, on SQLite too so both behave alike,
    whichever field or path parameter brought it. (JSON columns arrive serialized: `\\u0000`.)"""
    if _has_nul(parameters):
        raise InvalidRequest("text may not contain NUL characters")


def _has_nul(value: object) -> bool:
    # One row or many, as a tuple, list or dict, whatever the driver's parameter style.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    return isinstance(value, (list, tuple)) and any(_has_nul(item) for item in value)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the payment page and the API read while a webhook writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
