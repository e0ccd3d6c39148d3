"""Read the account facts the assistant may disclose once the customer is verified."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.repositories import AccountRepository
from payments.domain.accounts import Account
from payments.domain.errors import NotFound
from payments.services.clock import Clock, utc_now


class AccountService:
    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    def get(self, account_id: str) -> Account:
        with self.sessions() as session:
            account = AccountRepository(session).get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        return account

    def local_today(self, account: Account) -> date:
        """Today's date where the consumer lives: days past due and due dates are counted there."""
        return self.clock().astimezone(ZoneInfo(account.time_zone)).date()
