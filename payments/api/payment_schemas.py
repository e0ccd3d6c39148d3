"""Request and response bodies of the payments routes. Money is `amount_cents` + `currency`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from payments.domain.verification import Channel
from payments.services.payments import Payment


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
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(
            id=payment.id,
            account_id=payment.account_id,
            amount_cents=payment.amount.amount_cents,
            currency=payment.amount.currency,
            status=payment.status.value,
            method=payment.method,
            channel=payment.channel,
            conversation_id=payment.conversation_id,
            plan_id=payment.plan_id,
            installment_id=payment.installment_id,
            failure_code=payment.failure_code,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            completed_at=payment.completed_at,
            processing_note=payment.processing_note,
        )


class CreatedPaymentOut(PaymentOut):
    """The payment, and the one-time link to send the customer. The link is shown only when
    issued: replaying a pending payment's key issues a fresh one (the previous link stops
    working); once the payment is final there is none (null)."""

    link_url: str | None
    link_expires_at: datetime | None
    replayed: bool


class PaymentListOut(BaseModel):
    payments: list[PaymentOut]


class LinkStatusOut(BaseModel):
    payment_id: str
    status: str
    amount_cents: int
    currency: str


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
            account_settled=account_settled and payment.status.value == "succeeded",
        )
