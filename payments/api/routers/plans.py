"""Offers, plans and promises to pay for one account."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Response, status

from payments.api.deps import (
    Responses,
    get_plan_service,
    get_settings_dep,
    require_service_token,
    require_verification_session,
)
from payments.api.plan_schemas import BookPlanIn, CancelPlanIn, OfferOut, OffersOut, PlanOut, PromiseIn, PromiseOut
from payments.config import Settings
from payments.services.plans import PlanService

# Every route here discloses account facts or commits the customer: each needs the
# conversation's verification session for the path's account (C2).
router = APIRouter(
    prefix="/api/accounts",
    tags=["plans"],
    dependencies=[Depends(require_service_token), Depends(require_verification_session)],
)

REFUSALS: Responses = {
    403: {"description": "`verification_required`"},
    404: {"description": "no such account (`not_found`)"},
    409: {"description": "`plan_already_active`, `plan_not_active`"},
    422: {
        "description": "`offer_not_allowed`, `collection_paused`, `promise_date_out_of_range`, "
        "`promise_amount_too_low`, `amount_exceeds_balance`, `validation_error`"
    },
}


@router.get("/{account_id}/offers", response_model=OffersOut, responses=REFUSALS)
def offers(
    account_id: str,
    start_date: date | None = None,
    hardship: bool = False,
    service: PlanService = Depends(get_plan_service),
) -> OffersOut:
    """What the policy allows now, each with its exact schedule and a one-sentence description.
    `hardship=true` adds the hardship plan (after the customer has described a hardship)."""
    result = service.offers(account_id, start=start_date, hardship=hardship)
    return OffersOut(
        account_id=result.account_id,
        collection_allowed=result.collection_allowed,
        offers=[OfferOut.of(o) for o in result.offers],
    )


@router.post("/{account_id}/plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED, responses=REFUSALS)
def book_plan(
    account_id: str,
    body: BookPlanIn,
    response: Response,
    service: PlanService = Depends(get_plan_service),
    settings: Settings = Depends(get_settings_dep),
) -> PlanOut:
    """Book an offer. The same `idempotency_key` returns the same plan (200 instead of 201).
    `receipt_url` is the recurring-charge authorization page to give the customer (a replay
    gets a fresh one; the earlier one stops working)."""
    booking = service.book(
        account_id,
        offer_id=body.offer_id,
        channel=body.channel.value,
        idempotency_key=body.idempotency_key,
        consent_text=body.consent_text,
        conversation_id=body.conversation_id,
        start=body.start_date,
    )
    if not booking.created:
        response.status_code = status.HTTP_200_OK
    receipt_url = f"{settings.payments_public_url.rstrip('/')}/receipts/{booking.receipt_token}"
    return PlanOut.of(booking.plan, receipt_url=receipt_url)


@router.get("/{account_id}/plans", response_model=list[PlanOut], responses=REFUSALS)
def list_plans(account_id: str, service: PlanService = Depends(get_plan_service)) -> list[PlanOut]:
    return [PlanOut.of(p) for p in service.plans(account_id)]


@router.post("/{account_id}/plans/{plan_id}/cancel", response_model=PlanOut, responses=REFUSALS)
def cancel_plan(
    account_id: str, plan_id: str, body: CancelPlanIn, service: PlanService = Depends(get_plan_service)
) -> PlanOut:
    """Cancel an active plan (audited with the actor and reason)."""
    return PlanOut.of(
        service.cancel(account_id, plan_id, actor=body.actor, channel=body.channel.value, reason=body.reason)
    )


@router.post(
    "/{account_id}/promises", response_model=PromiseOut, status_code=status.HTTP_201_CREATED, responses=REFUSALS
)
def make_promise(
    account_id: str, body: PromiseIn, response: Response, service: PlanService = Depends(get_plan_service)
) -> PromiseOut:
    """A promise to pay by a date within the policy's window, for at least the minimum due."""
    promise, created = service.promise(
        account_id,
        amount_cents=body.amount_cents,
        due_date=body.due_date,
        channel=body.channel.value,
        idempotency_key=body.idempotency_key,
        conversation_id=body.conversation_id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return PromiseOut.of(promise)


@router.get("/{account_id}/promises", response_model=list[PromiseOut], responses=REFUSALS)
def list_promises(account_id: str, service: PlanService = Depends(get_plan_service)) -> list[PromiseOut]:
    return [PromiseOut.of(p) for p in service.promises(account_id)]
