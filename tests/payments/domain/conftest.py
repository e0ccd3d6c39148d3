"""The demo accounts as the domain sees them: seeded by `payments.seed` (the one description of
them) into an in-memory database on FIXED_NOW's day and read back through the repository."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from payments.adapters.db import make_engine
from payments.adapters.orm import Base
from payments.adapters.repositories import AccountRepository
from payments.domain.accounts import Account
from payments.seed import DEMO_ACCOUNTS, seed_demo_data
from tests.payments.conftest import FIXED_NOW


@pytest.fixture(scope="session")
def demo_accounts() -> dict[str, Account]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)  # in memory and thrown away: the migrations have their own tests
    with Session(engine) as session:
        seed_demo_data(session, today=FIXED_NOW.date())
        session.flush()
        repository = AccountRepository(session)
        accounts = [repository.get(account_id) for account_id, *_ in DEMO_ACCOUNTS]
    engine.dispose()
    return {account.id: account for account in accounts if account is not None}


@pytest.fixture
def maria(demo_accounts: dict[str, Account]) -> Account:
    """Demo account A1001, delinquent since 2026-01-16 (45 days before FIXED_NOW), due 2026-03-12."""
    return demo_accounts["A1001"]
