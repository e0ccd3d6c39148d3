"""Bodies for offers, plans and promises. Money is `amount_cents` + `currency`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field

from payments.api.schemas import MoneyOut
from payments.domain.offers import Offer
from payments.domain.plan import Plan, Promise
from payments.domain.verification import Channel


class ScheduledPaymentOut(BaseModel):
    due_date: date
    amount: MoneyOut


class OfferOut(BaseModel):
    id: str
    kind: str
    description: str
    total: MoneyOut
    months: int
    settles_balance: bool
    schedule: list[ScheduledPaymentOut]

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls(
            id=offer.id,
            kind=offer.kind.value,
            description=offer.description,
            total=MoneyOut.of(offer.total),
            months=offer.months,
            settles_balance=offer.settles_balance,
            schedule=[ScheduledPaymentOut(due_date=p.due_date, amount=MoneyOut.of(p.amount)) for p in offer.schedule],
        )


class OffersOut(BaseModel):
    account_id: str
    collection_allowed: bool
    offers: list[OfferOut]


class BookPlanIn(BaseModel):
    offer_id: str = Field(min_length=1, max_length=32)
    channel: Channel
    idempotency_key: str = Field(min_length=8, max_length=128)
    # Exactly what the customer was shown (C5); absent: the canonical read-back is stored.
    consent_text: str | None = Field(default=None, min_length=1, max_length=2000)
    conversation_id: str | None = Field(default=None, max_length=128)
    start_date: date | None = None


class InstallmentOut(BaseModel):
    seq: int
    due_date: date
    amount: MoneyOut
    status: str


class PlanOut(BaseModel):
    id: str
    account_id: str
    offer_id: str
    kind: str
    status: str
    total: MoneyOut
    settles_balance: bool
    channel: str
    consent_text: str
    consent_at: datetime | None
    consent_source: str | None  # "client" (the words shown) | "canonical"
    created_at: datetime
    ended_at: datetime | None
    schedule: list[InstallmentOut] = Field(validation_alias="installments")  # the plan's installments
    # The recurring-charge authorization page; only in the booking's answer (the token is not kept).
    receipt_url: str | None = None

    @classmethod
    def of(cls, plan: Plan, receipt_url: str | None = None) -> Self:
        """The plan's fields read by name, its money and installments too."""
        out = cls.model_validate(plan, from_attributes=True)
        out.receipt_url = receipt_url
        return out


class CancelPlanIn(BaseModel):
    actor: str = Field(min_length=1, max_length=64)
    channel: Channel
    reason: str = Field(min_length=1, max_length=500)


class PromiseIn(BaseModel):
    amount_cents: int = Field(gt=0)
    due_date: date
    channel: Channel
    idempotency_key: str = Field(min_length=8, max_length=128)
    conversation_id: str | None = Field(default=None, max_length=128)


class PromiseOut(BaseModel):
    id: str
    account_id: str
    amount: MoneyOut
    due_date: date
    status: str
    channel: str
    created_at: datetime

    @classmethod
    def of(cls, promise: Promise) -> Self:
        return cls.model_validate(promise, from_attributes=True)
