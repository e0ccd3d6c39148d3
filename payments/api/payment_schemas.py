"""Request and response bodies of the payments routes. Money is `amount_cents` + `currency`."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field, StrictInt

from payments.domain.payment import Payment, PaymentStatus
from payments.domain.verification import Channel
from payments.services.pay_page import LinkStatus
from payments.services.payment_links import CreatedPayment


class CreatePaymentRequest(BaseModel):
    account_id: str = Field(min_length=1, max_length=16)
    # Strict: 95.5 or "95" is a client bug, not an amount. The service refuses <= 0 and > balance.
    amount_cents: StrictInt
    channel: Channel
    idempotency_key: str = Field(min_length=1, max_length=100)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=128)
    plan_id: str | None = Field(default=None, min_length=1, max_length=16)
    installment_id: StrictInt | None = None


class PaymentOut(BaseModel):
    id: str
    account_id: str
    amount_cents: int
    currency: str
    status: str  # pending | processing | succeeded | failed | expired | canceled
    method: str  # link | ivr | off_session
    channel: str
    conversation_id: str | None
    plan_id: str | None
    installment_id: int | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    processing_note: str  # plain words for "I already paid"

    @classmethod
    def of(cls, payment: Payment) -> Self:
        """The payment's fields read by name (`amount_cents`, `currency`, `processing_note` too)."""
        return cls.model_validate(payment, from_attributes=True)


class CreatedPaymentOut(PaymentOut):
    """The payment, and the one-time link to send the customer. The link is shown only when
    issued: replaying a pending payment's key issues a fresh one (the previous link stops
    working); once the payment is final there is none (null)."""

    link_url: str | None
    link_expires_at: datetime | None
    replayed: bool

    @classmethod
    def of_created(cls, created: CreatedPayment) -> CreatedPaymentOut:
        return cls(
            **PaymentOut.of(created.payment).model_dump(),
            link_url=created.link_url,
            link_expires_at=created.link_expires_at,
            replayed=created.replayed,
        )


class PaymentListOut(BaseModel):
    payments: list[PaymentOut]


class LinkStatusOut(BaseModel):
    payment_id: str
    status: str
    amount_cents: int
    currency: str

    @classmethod
    def of(cls, link: LinkStatus) -> LinkStatusOut:
        return cls(
            payment_id=link.payment_id,
            status=link.status.value,
            amount_cents=link.amount.amount_cents,
            currency=link.amount.currency,
        )


class PaymentResultOut(BaseModel):
    """What the conversation that asked for a payment may hear about it without a verification
    session: its own payment's outcome (the customer paid on the page, then went quiet)."""

    id: str
    amount_cents: int
    currency: str
    status: str
    conversation_id: str
    # True when this payment succeeded and the account is now settled (the last settlement payment).
    account_settled: bool = False

    @classmethod
    def of(cls, payment: Payment, *, account_settled: bool = False) -> PaymentResultOut:
        return cls(
            id=payment.id,
            amount_cents=payment.amount.amount_cents,
            currency=payment.amount.currency,
            status=payment.status.value,
            conversation_id=payment.conversation_id or "",
            account_settled=account_settled and payment.status is PaymentStatus.SUCCEEDED,
        )
