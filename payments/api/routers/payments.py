"""Payments for the action server: create a payment and its one-time link, read payments."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from payments.api.deps import get_payment_service, require_service_token
from payments.api.payment_schemas import CreatedPaymentOut, CreatePaymentRequest, PaymentListOut, PaymentOut
from payments.services.payments import PaymentService

router = APIRouter(prefix="/api", tags=["payments"], dependencies=[Depends(require_service_token)])


@router.post(
    "/payments",
    status_code=201,
    response_model=CreatedPaymentOut,
    responses={
        404: {"description": "no such account, plan or installment"},
        409: {"description": "`idempotency_key_reused` with other values, or `plan_not_active`"},
        422: {"description": "`invalid_amount`, `amount_exceeds_balance`, `collection_paused`, or a malformed body"},
    },
)
def create_payment(
    body: CreatePaymentRequest, service: PaymentService = Depends(get_payment_service)
) -> CreatedPaymentOut:
    """Create a pending payment and a one-time link to the payment page (valid
    `PAYMENT_LINK_TTL_MINUTES`). The same `idempotency_key` returns the same payment (`replayed`)."""
    created = service.create_payment(
        body.account_id,
        body.amount_cents,
        body.channel.value,
        body.idempotency_key,
        conversation_id=body.conversation_id,
        plan_id=body.plan_id,
        installment_id=body.installment_id,
    )
    return CreatedPaymentOut(
        **PaymentOut.of(created.payment).model_dump(),
        link_url=created.link_url,
        link_expires_at=created.link_expires_at,
        replayed=created.replayed,
    )


@router.get("/payments/{payment_id}", response_model=PaymentOut, responses={404: {"description": "no such payment"}})
def get_payment(payment_id: str, service: PaymentService = Depends(get_payment_service)) -> PaymentOut:
    return PaymentOut.of(service.get_payment(payment_id))


@router.get(
    "/accounts/{account_id}/payments",
    response_model=PaymentListOut,
    responses={404: {"description": "no such account"}},
)
def account_payments(
    account_id: str,
    limit: int = Query(default=10, ge=1, le=50),
    service: PaymentService = Depends(get_payment_service),
) -> PaymentListOut:
    """Newest first: status, amount, when, and a processing note, for "I already paid"."""
    return PaymentListOut(payments=[PaymentOut.of(p) for p in service.recent_payments(account_id, limit)])
