from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from payments import cli
from payments import seed as seed_module
from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountRow
from payments.domain.accounts import AccountFlag, AccountStatus
from payments.domain.money import Money
from payments.seed import seed_demo_data
from payments.services.accounts import AccountService

TODAY = date(2026, 3, 2)

# DESIGN.md, "Demo data": balance, past due, minimum due (cents), days past due.
DESIGN_AMOUNTS = {
    "A1001": (245000, 31000, 9500, 45),
    "A1002": (64050, 64050, 64050, 120),
    "A1003": (598025, 0, 15000, 0),
    "A1004": (320000, 80000, 80000, 95),
    "A1005": (115075, 22000, 6000, 30),
}


@pytest.fixture
def demo_accounts(migrated_url):
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session, today=TODAY)
    yield {a: AccountService(sessions).get(a) for a in DESIGN_AMOUNTS}
    engine.dispose()


def test_seed_is_idempotent(migrated_url):
    assert cli.seed(migrated_url) == 5
    assert cli.seed(migrated_url) == 0
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(AccountRow)) == 5
    engine.dispose()


@pytest.mark.parametrize("account_id", sorted(DESIGN_AMOUNTS))
def test_demo_amounts_are_those_of_design_md(demo_accounts, account_id):
    account = demo_accounts[account_id]
    balance, past_due, minimum, days = DESIGN_AMOUNTS[account_id]
    assert (account.balance, account.past_due, account.minimum_due) == (Money(balance), Money(past_due), Money(minimum))
    assert account.days_past_due(TODAY) == days


@pytest.mark.parametrize("account_id", sorted(DESIGN_AMOUNTS))
def test_statement_breakdown_sums_to_the_balance(demo_accounts, account_id):
    account = demo_accounts[account_id]
    s = account.statement
    assert s.previous_balance + s.purchases + s.interest + s.fees - s.payments_and_credits == account.balance


def test_demo_account_particulars(demo_accounts):
    assert demo_accounts["A1001"].preferred_language == "es"
    assert demo_accounts["A1002"].status is AccountStatus.CHARGED_OFF
    assert demo_accounts["A1003"].status is AccountStatus.CURRENT
    assert demo_accounts["A1004"].flags == {AccountFlag.BANKRUPTCY}
    assert not demo_accounts["A1004"].collection_allowed
    assert [a for a, acc in demo_accounts.items() if acc.flags] == ["A1004"]


def test_charged_off_balance_is_due_now_and_others_in_ten_days(demo_accounts):
    assert demo_accounts["A1002"].payment_due_date == TODAY
    assert demo_accounts["A1001"].payment_due_date == date(2026, 3, 12)


class _NineInTheEveningInChicago(datetime):
    """2026-01-01T03:00Z: still 2025-12-31 in Chicago."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc).astimezone(tz)


def test_demo_days_past_due_hold_when_seeded_in_a_us_evening(migrated_url, monkeypatch):
    monkeypatch.setattr(seed_module, "datetime", _NineInTheEveningInChicago)
    cli.seed(migrated_url)
    engine = make_engine(migrated_url)
    service = AccountService(make_session_factory(engine), clock=_NineInTheEveningInChicago.now)
    maria = service.get("A1001")
    engine.dispose()
    assert maria.days_past_due(service.local_today(maria)) == 45
