"""Stripe behind the payments' port (`payments.services.ports.PaymentGateway`): its Stripe
implementation, and webhook verification. Nothing outside this module imports `stripe`.

Errors are typed once, here:
- a declined card is a normal result (`ChargeOutcome(status="declined", decline_code=...)`);
- Stripe unreachable, rate limiting, 5xx, bad keys or a request Stripe refuses raise
  `UpstreamUnavailable` (the work stays pending); Stripe's own message goes to the log only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Unpack

import stripe

from payments.domain.errors import UpstreamUnavailable
from payments.services.ports import (
    CardIntentRequest,
    ChargeOutcome,
    ChargeStatus,
    IntentRequest,
    IntentView,
    OffSessionCharge,
    PaymentIntentEvent,
    PaymentMethodCharge,
)

log = logging.getLogger(__name__)


class StripeGateway:
    """`PaymentGateway` on stripe-python's `StripeClient`.

    The client's blocking methods run in a worker thread (`asyncio.to_thread`): its `*_async`
    methods tie their HTTP connection pool to the first event loop that used them and fail on any
    other ("Event loop is closed"), and the app, the scheduler and tests each run their own loop.
    """

    def __init__(
        self,
        api_key: str,
        api_base: str = "",
        *,
        timeout_seconds: float = 20,
        max_network_retries: int = 2,
    ) -> None:
        # An empty api_base means the real Stripe API; otherwise localstripe (or another stand-in).
        base_addresses = {"api": api_base.rstrip("/")} if api_base else None
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=base_addresses,
            max_network_retries=max_network_retries,
            http_client=stripe.HTTPXClient(timeout=timeout_seconds, allow_sync_methods=True),
        )

    async def create_customer(self, *, account_id: str, idempotency_key: str) -> str:
        # Only our account id: Stripe needs no name, phone or address to keep a card for us.
        customer = await self._call(
            self._client.v1.customers.create,
            params={"metadata": {"account_id": account_id}},
            options={"idempotency_key": idempotency_key},
        )
        return str(customer.id)  # stripe ships no types: its objects are Any to us

    async def create_payment_intent(self, **request: Unpack[CardIntentRequest]) -> IntentView:
        intent = await self._call(
            self._client.v1.payment_intents.create,
            params=_card_intent_params(request),
            options={"idempotency_key": request["idempotency_key"]},
        )
        return _intent_view(intent)

    async def retrieve_payment_intent(self, payment_intent_id: str) -> IntentView:
        return _intent_view(await self._call(self._client.v1.payment_intents.retrieve, payment_intent_id))

    async def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> IntentView:
        intent = await self.retrieve_payment_intent(payment_intent_id)
        if intent.status in ("succeeded", "processing", "canceled"):
            return intent  # nothing to cancel: a success is the webhook's to report
        return _intent_view(
            await self._call(
                self._client.v1.payment_intents.cancel, payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        )

    async def charge_off_session(self, **charge: Unpack[OffSessionCharge]) -> ChargeOutcome:
        params = _intent_params(charge)
        params.update(
            customer=charge["customer_id"], payment_method=charge["payment_method_id"], off_session=True, confirm=True
        )
        return await self._charge(params, charge["idempotency_key"])

    async def charge_payment_method(self, **charge: Unpack[PaymentMethodCharge]) -> ChargeOutcome:
        params = _card_intent_params(charge)
        params.update(payment_method=charge["payment_method_id"], confirm=True)
        return await self._charge(params, charge["idempotency_key"])

    async def _charge(self, params: dict[str, Any], idempotency_key: str) -> ChargeOutcome:
        try:
            intent = await self._call(
                self._client.v1.payment_intents.create,
                params=params,
                options={"idempotency_key": idempotency_key},
                declines_raise=True,
            )
        except stripe.CardError as exc:
            error = exc.error.to_dict() if exc.error is not None else {}
            # Real Stripe returns the failed PaymentIntent with the error; localstripe does not.
            intent_obj = error.get("payment_intent")
            decline_code = error.get("decline_code") or exc.code
            log.info("card declined (%s)", decline_code)
            return ChargeOutcome(
                status="declined",
                payment_intent_id=_id_of(intent_obj),
                decline_code=decline_code or "card_declined",
                customer_id=params.get("customer"),
                payment_method_id=params.get("payment_method"),
            )
        view = _intent_view(intent)
        status: ChargeStatus
        if view.status == "succeeded":
            status = "succeeded"
        elif view.status == "processing":
            status = "processing"
        elif view.status == "requires_action":
            status = "requires_action"
        else:
            # requires_payment_method after a confirm: the card was refused without a CardError.
            status = "declined"
        return ChargeOutcome(
            status=status,
            payment_intent_id=view.id,
            decline_code=None if status != "declined" else "card_declined",
            customer_id=view.customer_id,
            payment_method_id=view.payment_method_id,
        )

    async def _call(self, method: Any, *args: Any, declines_raise: bool = False, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(method, *args, **kwargs)
        except stripe.CardError:
            if declines_raise:
                raise
            log.error("Stripe refused a request that charges nothing (card error)")
            raise UpstreamUnavailable("the payment provider refused the request") from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            log.warning("Stripe unavailable: %s", type(exc).__name__)
            raise UpstreamUnavailable("the payment provider is not answering; try again shortly") from None
        except stripe.StripeError as exc:
            # Bad key, bad request, idempotency clash: our fault or our configuration's. Retrying
            # later is all the customer can do; the vendor's words stay in the log.
            log.error("Stripe refused the request: %s %s (%s)", type(exc).__name__, exc.code, exc.user_message)
            raise UpstreamUnavailable("the payment provider refused the request") from None


def verify_stripe_webhook(payload: bytes, signature_header: str | None, secret: str) -> PaymentIntentEvent:
    """Check `Stripe-Signature` (HMAC-SHA256 of `t.payload`, 5 minutes' tolerance) and parse the event.

    Raises `ValueError` when the signature is missing or wrong or the body is not an event.
    """
    if not signature_header:
        raise ValueError("missing Stripe-Signature")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret)
    except stripe.SignatureVerificationError as exc:
        raise ValueError("bad Stripe-Signature") from exc
    return _event_from(event)


def _event_from(event: Any) -> PaymentIntentEvent:
    event = event.to_dict()  # stripe-python 16 objects are not dicts; plain data from here on
    obj = event["data"]["object"]
    is_intent = obj.get("object") == "payment_intent"
    metadata = (obj.get("metadata") or {}) if is_intent else {}
    error = obj.get("last_payment_error") if is_intent else None
    failure_code = None
    if error:
        failure_code = error.get("decline_code") or error.get("code")
    currency = obj.get("currency") if is_intent else None
    return PaymentIntentEvent(
        id=event["id"],
        type=event["type"],
        payment_intent_id=obj.get("id") if is_intent else None,
        payment_id=metadata.get("payment_id"),
        amount_cents=obj.get("amount") if is_intent else None,
        currency=currency.upper() if currency else None,
        customer_id=_id_of(obj.get("customer")) if is_intent else None,
        payment_method_id=_id_of(obj.get("payment_method")) if is_intent else None,
        failure_code=failure_code,
    )


def _intent_params(request: IntentRequest) -> dict[str, Any]:
    """The PaymentIntent parameters every request has (Stripe wants the currency in lower case)."""
    return {"amount": request["amount_cents"], "currency": request["currency"].lower(), "metadata": request["metadata"]}


def _card_intent_params(request: CardIntentRequest) -> dict[str, Any]:
    """PaymentIntent parameters for a card payment taken now (on the page or from a token)."""
    params = _intent_params(request)
    params["payment_method_types"] = ["card"]
    if customer_id := request.get("customer_id"):
        params["customer"] = customer_id
    if request.get("save_for_later"):
        # The card is kept for the plan's later off-session charges.
        params["setup_future_usage"] = "off_session"
    return params


def _intent_view(intent: Any) -> IntentView:
    intent = intent.to_dict()
    return IntentView(
        id=intent["id"],
        status=intent["status"],
        client_secret=intent.get("client_secret"),
        amount_cents=intent["amount"],
        currency=str(intent["currency"]).upper(),
        customer_id=_id_of(intent.get("customer")),
        payment_method_id=_id_of(intent.get("payment_method")),
    )


def _id_of(value: Any) -> str | None:
    """Stripe fields hold either an id or, when expanded, the object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.get("id") if isinstance(value, dict) else None
