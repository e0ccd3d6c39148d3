from datetime import date, datetime, timezone

import pytest

from payments.domain.errors import NotFound
from payments.domain.money import Money
from payments.services.accounts import AccountService


def test_get_returns_the_account(sessions, clock):
    account = AccountService(sessions, clock=clock).get("A1001")
    assert (account.full_name, account.balance, account.time_zone) == ("Maria Lopez", Money(245000), "America/Chicago")


def test_get_unknown_account_raises_not_found(sessions, clock):
    with pytest.raises(NotFound) as error:
        AccountService(sessions, clock=clock).get("A9999")
    assert error.value.code == "not_found"


@pytest.mark.parametrize(
    ("now", "account_id", "today"),
    [
        (datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc), "A1001", date(2025, 12, 31)),  # 21:00 in Chicago
        (datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc), "A1002", date(2025, 12, 31)),  # 22:00 in New York
        (datetime(2026, 1, 1, 6, 0, tzinfo=timezone.utc), "A1001", date(2026, 1, 1)),  # midnight in Chicago
        (datetime(2026, 1, 1, 7, 59, tzinfo=timezone.utc), "A1003", date(2025, 12, 31)),  # 23:59 in Los Angeles
    ],
)
def test_local_today_is_the_date_in_the_accounts_time_zone(sessions, now, account_id, today):
    service = AccountService(sessions, clock=lambda: now)
    assert service.local_today(service.get(account_id)) == today
