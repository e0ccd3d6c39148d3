from datetime import date

import pytest

from payments.domain.accounts import Account, AccountStatus, StatementBreakdown
from payments.domain.money import Money


@pytest.fixture
def maria() -> Account:
    """Demo account A1001 as the domain sees it, delinquent since 2026-01-16."""
    return Account(
        id="A1001",
        full_name="Maria Lopez",
        phone="+15125550101",
        card_last4="4821",
        date_of_birth=date(1985, 3, 14),
        zip_code="78701",
        time_zone="America/Chicago",
        preferred_language="es",
        status=AccountStatus.DELINQUENT,
        balance=Money(245000),
        past_due=Money(31000),
        minimum_due=Money(9500),
        payment_due_date=date(2026, 3, 12),
        delinquent_since=date(2026, 1, 16),
        statement=StatementBreakdown(Money(231000), Money(4500), Money(5500), Money(4000), Money(0)),
    )
