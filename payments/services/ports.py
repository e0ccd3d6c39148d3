"""The ports of the payment use cases: what they need from a payment provider, in their own
terms. Here, in services/, because the use cases define them and adapters implement them
(`payments.adapters.stripe_gateway.StripeGateway` on Stripe, `testkit.fake_gateway.FakeGateway`
in tests); the domain stays free of any provider's vocabulary.

Only provider ids (customers, PaymentMethods, PaymentIntents) pass through these types; card
data never does: browsers send it to Stripe directly (Stripe.js) and Twilio <Pay> hands us a
PaymentMethod id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired, Protocol, TypedDict, Unpack

ChargeStatus = Literal["succeeded", "processing", "requires_action", "declined"]


@dataclass(frozen=True)
class IntentView:
    """A PaymentIntent as the service needs it. `currency` is upper case (ISO 4217)."""

    id: str
    status: str  # Stripe's: requires_payment_method | requires_confirmation | requires_action | processing | succeeded | canceled
    client_secret: str | None
    amount_cents: int
    currency: str
    customer_id: str | None = None
    payment_method_id: str | None = None


@dataclass(frozen=True)
class ChargeOutcome:
    """What a confirmed charge came to. `decline_code` is Stripe's decline code, else its error code."""

    status: ChargeStatus
    payment_intent_id: str | None
    decline_code: str | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None


@dataclass(frozen=True)
class PaymentIntentEvent:
    """A verified `payment_intent.*` webhook event, reduced to what the service reads."""

    id: str
    type: str
    payment_intent_id: str | None
    payment_id: str | None  # our metadata
    amount_cents: int | None
    currency: str | None
    customer_id: str | None
    payment_method_id: str | None
    failure_code: str | None


class IntentRequest(TypedDict):
    """What every PaymentIntent the service asks for carries."""

    amount_cents: int
    currency: str
    metadata: dict[str, str]
    idempotency_key: str


class CardIntentRequest(IntentRequest):
    """A card payment the customer makes now. `save_for_later` keeps the card on `customer_id`
    for the plan's later off-session charges; left out, there is no customer and no card kept."""

    customer_id: NotRequired[str | None]
    save_for_later: NotRequired[bool]


class PaymentMethodCharge(CardIntentRequest):
    """A card payment made now with a PaymentMethod we were handed (Twilio <Pay>)."""

    payment_method_id: str


class OffSessionCharge(IntentRequest):
    """A plan's installment, charged to the card kept on the customer."""

    customer_id: str
    payment_method_id: str


class PaymentGateway(Protocol):
    """Every call carries an idempotency key: a retry with the same key never charges twice.
    The requests are keyword arguments, typed once here (`Unpack` of the TypedDicts above)."""

    async def create_customer(self, *, account_id: str, idempotency_key: str) -> str: ...

    async def create_payment_intent(self, **request: Unpack[CardIntentRequest]) -> IntentView: ...

    async def retrieve_payment_intent(self, payment_intent_id: str) -> IntentView: ...

    async def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> IntentView:
        """Cancel an intent so its client secret can no longer pay. An intent Stripe will not
        cancel (already succeeded or processing) comes back as it is, not as an error."""
        ...

    async def charge_off_session(self, **charge: Unpack[OffSessionCharge]) -> ChargeOutcome: ...

    async def charge_payment_method(self, **charge: Unpack[PaymentMethodCharge]) -> ChargeOutcome: ...
