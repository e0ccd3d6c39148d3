"""Payments for the action server: create a payment and its one-time link, read payments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from payments.api.deps import (
    get_payment_links,
    get_standing_service,
    require_service_token,
    require_verification_session,
)
from payments.api.payment_schemas import (
    CreatedPaymentOut,
    CreatePaymentRequest,
    PaymentListOut,
    PaymentOut,
    PaymentResultOut,
)
from payments.domain.errors import NotFound
from payments.services.payment_links import PaymentLinks
from payments.services.standing import StandingService
from payments.services.verification import VerifiedSession

# Every route here moves money or discloses it: each needs the conversation's verification
# session (C2) for the account concerned.
router = APIRouter(prefix="/api", tags=["payments"], dependencies=[Depends(require_service_token)])
Verified = Annotated[VerifiedSession, Depends(require_verification_session)]


@router.post(
    "/payments",
    status_code=201,
    response_model=CreatedPaymentOut,
    responses={
        403: {"description": "`verification_required`"},
        404: {"description": "no such account, plan or installment"},
        409: {"description": "`idempotency_key_reused` with other values, or `plan_not_active`"},
        422: {"description": "`invalid_amount`, `amount_exceeds_balance`, `collection_paused`, or a malformed body"},
    },
)
def create_payment(
    body: CreatePaymentRequest, verified: Verified, service: PaymentLinks = Depends(get_payment_links)
) -> CreatedPaymentOut:
    """Create a pending payment and a one-time link to the payment page (valid
    `PAYMENT_LINK_TTL_MINUTES`). The same `idempotency_key` returns the same payment (`replayed`)."""
    verified.require_account(body.account_id)
    created = service.create_payment(
        body.account_id,
        body.amount_cents,
        body.channel.value,
        body.idempotency_key,
        conversation_id=body.conversation_id,
        plan_id=body.plan_id,
        installment_id=body.installment_id,
    )
    return CreatedPaymentOut.of_created(created)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentOut,
    responses={403: {"description": "`verification_required`"}, 404: {"description": "no such payment"}},
)
def get_payment(payment_id: str, verified: Verified, service: PaymentLinks = Depends(get_payment_links)) -> PaymentOut:
    payment = service.get_payment(payment_id)
    verified.require_account(payment.account_id)
    return PaymentOut.of(payment)


@router.get(
    "/payments/{payment_id}/result",
    response_model=PaymentResultOut,
    responses={404: {"description": "no such payment in this conversation"}},
)
def payment_result(
    payment_id: str,
    x_conversation_id: str | None = Header(default=None),
    service: PaymentLinks = Depends(get_payment_links),
    standing: StandingService = Depends(get_standing_service),
) -> PaymentResultOut:
    """The outcome of a payment, only to the conversation it was created in (`X-Conversation-Id`),
    with or without a live verification session: a customer who paid after the session ended
    still hears that it went through. Conversation ids are issued by our connectors, and this
    says nothing that conversation was not already told (amount, id). Any other caller: 404."""
    payment = service.get_payment(payment_id)
    if not x_conversation_id or payment.conversation_id != x_conversation_id:
        raise NotFound(f"no payment {payment_id} in this conversation")
    settled = standing.standing(payment.account_id).status == "settled"
    return PaymentResultOut.of(payment, account_settled=settled)


@router.get(
    "/accounts/{account_id}/payments",
    response_model=PaymentListOut,
    responses={403: {"description": "`verification_required`"}, 404: {"description": "no such account"}},
    dependencies=[Depends(require_verification_session)],
)
def account_payments(
    account_id: str,
    limit: int = Query(default=10, ge=1, le=50),
    service: PaymentLinks = Depends(get_payment_links),
) -> PaymentListOut:
    """Newest first: status, amount, when, and a processing note, for "I already paid"."""
    return PaymentListOut(payments=[PaymentOut.of(p) for p in service.recent_payments(account_id, limit)])
