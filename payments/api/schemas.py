"""Request and response bodies. Money is always `amount_cents` + `currency`."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from payments.domain.money import Money
from payments.domain.verification import Channel

Digits4 = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Zip5 = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]  # E.164


def iso_text(pattern: str) -> BeforeValidator:
    """Dates and times only as ISO 8601 text: pydantic also reads a number, or a string of digits,
    as Unix time, so `"dob": 0` would be checked as 1970-01-01 and cost a verification attempt."""
    regex = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, date) or (isinstance(value, str) and regex.match(value)):
            return value
        raise ValueError("expected ISO 8601 text")

    return BeforeValidator(check)


IsoDate = Annotated[date, iso_text(r"\d{4}-\d{2}-\d{2}\Z")]


class ErrorOut(BaseModel):
    """Every error answer (payments/api/errors.py): a stable `code` and a `detail` for people."""

    code: str
    detail: str
    fields: list[str] | None = None  # validation_error: which fields, never their values
    retry_after_seconds: int | None = None  # verification_locked


class MoneyOut(BaseModel):
    amount_cents: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount_cents=money.amount_cents, currency=money.currency)


class VerifyRequest(BaseModel):
    channel: Channel
    conversation_id: str = Field(min_length=1, max_length=128)
    phone: Phone | None = None
    card_last4: Digits4 | None = None
    dob: IsoDate | None = None
    zip: Zip5 | None = None
    # The disclosure the assistant gives on success; recorded in the audit trail.
    disclosure: Literal["first_party", "third_party"] | None = None


class VerifyResponse(BaseModel):
    verified: bool
    account_id: str | None = None
    attempts_left: int
    locked_until: datetime | None = None
    # When verified (contract C2): the opaque id every disclosing call sends as
    # `X-Verification-Session`, and the session's absolute limit (idle time ends it sooner).
    verification_session: str | None = None
    session_expires_at: datetime | None = None


class EndSessionsRequest(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=128)
    reason: Literal["sign_off", "hand_back", "call_ended", "lockout"]


class EndSessionsResponse(BaseModel):
    ended: int


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
