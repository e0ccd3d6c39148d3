from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from payments import cli
from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import VerificationAttemptRow

PLUS_TWO = timezone(timedelta(hours=2))


def store_and_load(sessions, at: datetime) -> datetime:
    with sessions.begin() as session:
        session.add(VerificationAttemptRow(subject="s", channel="web", account_id=None, succeeded=False, at=at))
    with sessions() as session:
        return session.scalar(select(VerificationAttemptRow.at))


def test_utc_datetime_comes_back_aware_in_utc(empty_sessions):
    loaded = store_and_load(empty_sessions, datetime(2026, 3, 2, 20, 0, 0, 123456, tzinfo=PLUS_TWO))
    assert loaded == datetime(2026, 3, 2, 18, 0, 0, 123456, tzinfo=timezone.utc)
    assert loaded.utcoffset() == timedelta(0)


def test_utc_datetime_refuses_naive_datetimes(empty_sessions):
    with pytest.raises(StatementError, match="naive datetime"):
        store_and_load(empty_sessions, datetime(2026, 3, 2, 18, 0))


@pytest.mark.postgres
def test_utc_datetime_is_utc_whatever_the_postgres_time_zone(postgres_url):
    cli.migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        store_and_load(make_session_factory(engine), datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc))
        with make_session_factory(engine)() as session:
            session.execute(text("SET TIME ZONE 'America/Chicago'"))
            loaded = session.scalar(select(VerificationAttemptRow.at))
    finally:
        engine.dispose()
    assert loaded.utcoffset() == timedelta(0)
