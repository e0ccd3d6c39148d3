"""Request and response bodies. Money is always `amount_cents` + `currency`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from payments.domain.money import Money
from payments.domain.verification import Channel

Digits4 = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Zip5 = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]  # E.164


class MoneyOut(BaseModel):
    amount_cents: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> "MoneyOut":
        return cls(amount_cents=money.amount_cents, currency=money.currency)


class VerifyRequest(BaseModel):
    channel: Channel
    conversation_id: str = Field(min_length=1, max_length=128)
    phone: Phone | None = None
    card_last4: Digits4 | None = None
    dob: date | None = None
    zip: Zip5 | None = None


class VerifyResponse(BaseModel):
    verified: bool
    account_id: str | None = None
    attempts_left: int
    locked_until: datetime | None = None


class StatementOut(BaseModel):
    previous_balance: MoneyOut
    purchases: MoneyOut
    interest: MoneyOut
    fees: MoneyOut
    payments_and_credits: MoneyOut


class AccountOut(BaseModel):
    id: str
    first_name: str
    status: str
    balance: MoneyOut
    past_due: MoneyOut
    minimum_due: MoneyOut
    payment_due_date: date
    days_past_due: int
    time_zone: str
    preferred_language: str
    flags: list[str]
    collection_allowed: bool
    statement: StatementOut
