"""An in-memory `PaymentGateway` (payments.services.ports) for service and API tests: no network, scripted outcomes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Unpack

from payments.domain.errors import UpstreamUnavailable
from payments.services.ports import (
    CardIntentRequest,
    ChargeOutcome,
    ChargeStatus,
    IntentView,
    OffSessionCharge,
    PaymentMethodCharge,
)


@dataclass
class FakeGateway:
    """Records every call. Set `down = True` for an outage, `decline_code` to decline charges,
    `charge_status` for a charge's status ("succeeded", "processing", "requires_action")."""

    down: bool = False
    decline_code: str | None = None
    charge_status: ChargeStatus = "succeeded"
    calls: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    intents: dict[str, IntentView] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, IntentView] = field(default_factory=dict)
    charges: dict[str, ChargeOutcome] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _enter(self, name: str, **kwargs: object) -> None:
        self.calls.append((name, kwargs))
        if self.down:
            raise UpstreamUnavailable("the payment provider is not answering; try again shortly")

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def create_customer(self, *, account_id: str, idempotency_key: str) -> str:
        self._enter("create_customer", account_id=account_id, idempotency_key=idempotency_key)
        return self.customers.setdefault(idempotency_key, f"cus_fake{next(self._ids)}")

    async def create_payment_intent(self, **request: Unpack[CardIntentRequest]) -> IntentView:
        self._enter("create_payment_intent", **request)
        key = request["idempotency_key"]
        if key not in self.by_key:
            n = next(self._ids)
            intent = IntentView(
                f"pi_fake{n}",
                "requires_payment_method",
                f"pi_fake{n}_secret_x",
                request["amount_cents"],
                request["currency"],
                request.get("customer_id"),
            )
            self.intents[intent.id] = intent
            self.by_key[key] = intent
        return self.by_key[key]

    async def retrieve_payment_intent(self, payment_intent_id: str) -> IntentView:
        self._enter("retrieve_payment_intent", payment_intent_id=payment_intent_id)
        return self.intents[payment_intent_id]

    async def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> IntentView:
        self._enter("cancel_payment_intent", payment_intent_id=payment_intent_id, idempotency_key=idempotency_key)
        old = self.intents[payment_intent_id]
        if old.status in ("succeeded", "processing", "canceled"):
            return old
        self.intents[payment_intent_id] = IntentView(
            old.id, "canceled", old.client_secret, old.amount_cents, old.currency, old.customer_id
        )
        return self.intents[payment_intent_id]

    def _charge(self, name: str, charge: OffSessionCharge | PaymentMethodCharge) -> ChargeOutcome:
        self._enter(name, **charge)
        key = charge["idempotency_key"]
        if key not in self.charges:
            n = next(self._ids)
            if self.decline_code:
                outcome = ChargeOutcome("declined", f"pi_fake{n}", self.decline_code)
            else:
                outcome = ChargeOutcome(
                    self.charge_status,
                    f"pi_fake{n}",
                    None,
                    charge.get("customer_id"),
                    charge["payment_method_id"],
                )
            self.charges[key] = outcome
        return self.charges[key]

    async def charge_off_session(self, **charge: Unpack[OffSessionCharge]) -> ChargeOutcome:
        return self._charge("charge_off_session", charge)

    async def charge_payment_method(self, **charge: Unpack[PaymentMethodCharge]) -> ChargeOutcome:
        return self._charge("charge_payment_method", charge)

    def succeed(self, intent_id: str) -> None:
        """What a customer paying on the page does to the intent (as Stripe would report it)."""
        old = self.intents[intent_id]
        self.intents[intent_id] = IntentView(
            old.id, "succeeded", old.client_secret, old.amount_cents, old.currency, old.customer_id, "pm_fake_card"
        )
