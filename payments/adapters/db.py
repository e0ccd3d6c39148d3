"""Engine and session factories. Nothing connects at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
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


def _refuse_nul_characters(
    _conn: Any, _cursor: Any, _statement: str, parameters: object, _context: Any, _executemany: bool
) -> None:
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the payment page and the API read while a webhook writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rows_matched(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. `Session.execute` is typed to return `Result`,
    but for these statements it returns a `CursorResult`, which has `rowcount` (hence the cast)."""
    return cast(CursorResult[Any], result).rowcount
