"""Webhooks from Stripe (payment results, the source of truth) and Twilio (<Pay> results).

Neither uses the service token: each is authenticated by its vendor's signature instead.
"""

from __future__ import annotations

import hashlib
import logging

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from twilio.twiml.voice_response import VoiceResponse

from contracts.speech import speak_code, speakable_cents
from contracts.twilio import SIGNATURE_HEADER, is_valid_signature, signed_url
from payments.adapters.stripe_gateway import verify_stripe_webhook
from payments.api.deps import get_charges, get_payment_events, get_settings_dep
from payments.config import Settings
from payments.domain.errors import DomainError
from payments.domain.money import Money
from payments.services.charges import ChargeResult, Charges
from payments.services.payment_events import PaymentEvents

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/stripe",
    responses={400: {"description": "missing or wrong `Stripe-Signature`, or not an event"}},
)
async def stripe_webhook(
    request: Request,
    service: PaymentEvents = Depends(get_payment_events),
    settings: Settings = Depends(get_settings_dep),
) -> JSONResponse:
    """Stripe events, verified against `STRIPE_WEBHOOK_SECRET` on the raw body. A replayed event
    answers 200 and changes nothing (`outcome: duplicate`); so do an event that contradicts the
    stored payment (`rejected`, an alert) and a success for an expired link (`held` for a person):
    retrying them would change nothing. Any error answers 5xx so Stripe retries."""
    raw = await request.body()
    try:
        event = verify_stripe_webhook(raw, request.headers.get("stripe-signature"), settings.stripe_webhook_secret)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return JSONResponse({"code": "bad_signature", "detail": "invalid Stripe webhook"}, status_code=400)
    outcome = await run_in_threadpool(service.handle_stripe_event, event)
    log.info("Stripe event %s %s: %s", event.id, event.type, outcome.value)
    return JSONResponse({"received": True, "outcome": outcome.value})


@router.post("/twilio/pay", responses={403: {"description": "missing or wrong `X-Twilio-Signature`"}})
async def twilio_pay(
    request: Request,
    payment_id: str = Query(min_length=1, max_length=16),
    return_url: str | None = Query(default=None, max_length=500),
    service: Charges = Depends(get_charges),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """The `action` of a Twilio `<Pay>` (Stripe connector, `tokenType="payment-method"`, no
    `chargeAmount`): Twilio posts `Result` and, on success, `PaymentToken` (a Stripe PaymentMethod
    id); we charge it and answer TwiML that says the outcome.

    Contract for whoever builds the `<Pay>` (the voice connector):
    `action="{PAYMENTS_PUBLIC_URL}/webhooks/twilio/pay?payment_id=PAY-XXXXXX[&return_url=...]"`
    where `payment_id` is a pending payment from `POST /api/payments`, and the optional
    `return_url` is where Twilio goes next (`<Redirect method="POST">`, e.g. the voice connector's
    webhook, so the conversation goes on); without it the call ends after the message. The
    signature is checked against `PAYMENTS_PUBLIC_URL` + path + query (contracts/twilio.py, whose
    `pay_action_url` builds this URL), so that setting must be the exact origin Twilio calls.
    One payment per <Pay>: after a decline, create a new payment.
    """
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}  # Twilio sends one value per name
    public = signed_url(settings.payments_public_url, request.url.path, request.url.query)
    if not is_valid_signature(settings.twilio_auth_token, public, params, request.headers.get(SIGNATURE_HEADER, "")):
        log.warning("Twilio <Pay> webhook with a bad signature refused")
        return JSONResponse({"code": "bad_signature", "detail": "invalid Twilio signature"}, status_code=403)

    reply = VoiceResponse()
    token = params.get("PaymentToken", "")
    if params.get("Result") == "success" and token:
        # One Stripe key per (payment, token): Twilio retrying this webhook never charges twice.
        key = hashlib.sha256(token.encode()).hexdigest()[:32]
        try:
            result = await service.charge_ivr_token(token, key, payment_id=payment_id)
        except DomainError as exc:
            log.warning("<Pay> charge for %s refused: %s", payment_id, exc.code)
            reply.say("We could not take this payment, and no money was taken.")
        else:
            reply.say(_speak(result))
    else:
        log.info("<Pay> for %s ended without a card: %s", payment_id, params.get("Result"))
        reply.say("The payment was not completed, and no money was taken.")
    if return_url:
        reply.redirect(return_url, method="POST")
    return Response(str(reply), media_type="application/xml")


def _speak(result: ChargeResult) -> str:
    if result.status == "unavailable" or result.payment is None:
        return (
            "We could not reach our payment system, so the payment was not completed. "
            "Please try again in a few minutes."
        )
    amount = speakable_money(result.payment.amount)
    if result.status == "succeeded":
        return (
            f"Thank you. Your payment of {amount} was received. "
            f"Your confirmation number is {speak_code(result.payment.id)}."
        )
    if result.status == "processing":
        return f"Your payment of {amount} is being processed. We will confirm it shortly."
    return f"Your card was declined, so the payment of {amount} was not taken."


def speakable_money(money: Money) -> str:
    """`95 dollars and 50 cents` (contracts/speech.py, as the voice connector reads amounts);
    another currency as it is displayed."""
    return speakable_cents(money.amount_cents) if money.currency == "USD" else money.display()
