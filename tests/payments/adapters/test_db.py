import pytest
from sqlalchemy import select

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountRow
from payments.domain.errors import InvalidRequest


def test_plain_postgresql_urls_use_psycopg():
    engine = make_engine("postgresql://user@db.example:5432/evenkeel")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_sqlite_file_folder_is_created(tmp_path):
    path = tmp_path / "var" / "nested" / "evenkeel.db"
    engine = make_engine(f"sqlite:///{path}")
    assert path.parent.is_dir()
    engine.dispose()


def test_text_with_a_nul_character_is_an_invalid_request_on_every_database(migrated_url):
    # PostgreSQL text cannot hold NUL: psycopg raised DataError, and the API answered 500.
    engine = make_engine(migrated_url)
    try:
        with make_session_factory(engine)() as session:
            with pytest.raises(InvalidRequest, match="NUL"):
                session.get(AccountRow, "A1001\x00")
            session.rollback()
            with pytest.raises(InvalidRequest, match="NUL"):
                session.execute(select(AccountRow).where(AccountRow.full_name.in_(["ok", "bad\x00"])))
            session.rollback()
            assert session.scalars(select(AccountRow)).all() == []  # the connection is still usable
    finally:
        engine.dispose()
