import pytest

from payments.adapters.db import make_engine, make_session_factory


@pytest.fixture
def empty_sessions(migrated_url):
    """Sessions on a migrated database with no rows."""
    engine = make_engine(migrated_url)
    yield make_session_factory(engine)
    engine.dispose()
