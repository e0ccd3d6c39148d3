"""The customer's payment page, `/pay/{token}`: what it shows, the PaymentIntent it makes on first
opening, the answer to "save this card for your plan?", and the status it polls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import Gone, NotFound
from payments.domain.money import Money
from payments.domain.payment import Payment, PaymentStatus, asks_to_save_card, page_refusal
from payments.services.payment_use_case import PaymentUseCase, audit_payment, expire_if_due, hash_link_token

# PaymentIntent states in which the page may still collect a card.
_COLLECTABLE_INTENT_STATES = ("requires_payment_method", "requires_confirmation", "requires_action")


@dataclass(frozen=True)
class PageView:
    """What the payment page shows: no surname, phone, date of birth or balance."""

    payment_id: str
    first_name: str
    card_last4: str  # the account's card, so the customer knows which debt this pays
    amount: Money
    status: PaymentStatus
    client_secret: str | None  # None when there is nothing to collect (already processing)
    link_expires_at: datetime | None
    # A plan payment first asks "save this card for your plan's payments?" (no card form yet);
    # `saves_card` says the form's card will be kept by Stripe for the plan (the customer said yes).
    asks_to_save_card: bool = False
    saves_card: bool = False


@dataclass(frozen=True)
class LinkStatus:
    payment_id: str
    status: PaymentStatus
    amount: Money


@dataclass(frozen=True)
class _PageFacts:
    payment: Payment
    first_name: str
    card_last4: str
    plan_customer_id: str | None
    plan_has_card: bool
    later_payments: bool  # the plan has payments due after this one (a card saved now would pay them)

    @property
    def asks_to_save_card(self) -> bool:
        return asks_to_save_card(self.payment, plan_has_card=self.plan_has_card, payments_due_later=self.later_payments)


class PayPage(PaymentUseCase):
    async def page(self, token: str) -> PageView:
        """What the page at `/pay/{token}` needs, creating the PaymentIntent on first opening
        (Stripe key `payment-{id}`), so a Stripe outage when the link was made loses nothing.

        Raises `NotFound` (unknown token), `Gone` (`link_expired` / `link_used`), and
        `UpstreamUnavailable` when Stripe does not answer (the payment stays pending).
        """
        facts = await asyncio.to_thread(self._page_facts, hash_link_token(token))
        payment = facts.payment
        view = PageView(
            payment_id=payment.id,
            first_name=facts.first_name,
            card_last4=facts.card_last4,
            amount=payment.amount,
            status=payment.status,
            client_secret=None,
            link_expires_at=payment.link_expires_at,
        )
        if facts.asks_to_save_card:
            return replace(view, asks_to_save_card=True)
        saves_card = payment.save_card is True and facts.later_payments
        client_secret = None
        if payment.status is PaymentStatus.PENDING:
            intent_id = payment.payment_intent_id
            if intent_id is None:
                customer_id = facts.plan_customer_id
                if payment.plan_id and customer_id is None:
                    customer_id = await self.plan_customer(payment.plan_id, payment.account_id)
                intent = await self.gateway.create_payment_intent(
                    amount_cents=payment.amount.amount_cents,
                    currency=payment.amount.currency,
                    metadata={"payment_id": payment.id, "account_id": payment.account_id},
                    idempotency_key=f"payment-{payment.id}",
                    customer_id=customer_id,
                    save_for_later=saves_card,
                )
                stored = await asyncio.to_thread(self._store_intent, payment.id, intent.id)
                if stored != intent.id:
                    intent = await self.gateway.retrieve_payment_intent(stored)
            else:
                intent = await self.gateway.retrieve_payment_intent(intent_id)
            if intent.status in _COLLECTABLE_INTENT_STATES:
                client_secret = intent.client_secret
        # Stripe may be done before its webhook reaches us: then "processing", never a form.
        status = PaymentStatus.PROCESSING if client_secret is None else payment.status
        return replace(view, status=status, client_secret=client_secret, saves_card=saves_card)

    def answer_card_saving(self, token: str, save: bool) -> None:
        """Record the customer's answer on the page to "save this card for your plan?" (audited).
        Only while the page still asks; a later answer changes nothing (the intent is made)."""
        with self.sessions.begin() as session:
            facts = self._page_facts_in(session, hash_link_token(token))
            if not facts.asks_to_save_card:
                return
            payment = PaymentRepository(session).record_card_saving(facts.payment.id, save, self.clock())
            detail = {"plan_id": payment.plan_id, "save_card": save}
            audit_payment(session, "card_saving_answered", payment, at=self.clock(), actor="customer", detail=detail)

    def link_status(self, token: str) -> LinkStatus:
        """The payment's status for the page to poll after Stripe.js confirmed (webhooks decide it)."""
        with self.sessions.begin() as session:
            payment = PaymentRepository(session).by_link_token_hash(hash_link_token(token))
            if payment is None:
                raise NotFound("unknown payment link")
            payment = expire_if_due(session, payment, self.clock())
            return LinkStatus(payment.id, payment.status, payment.amount)

    def _page_facts(self, token_hash: str) -> _PageFacts:
        with self.sessions.begin() as session:
            facts = self._page_facts_in(session, token_hash)
        # Raised after the commit, so an expiry found here is saved.
        refusal = page_refusal(facts.payment)
        if refusal == "link_expired":
            raise Gone("this payment link has expired", code=refusal)
        if refusal is not None:
            raise Gone("this payment link was already used", code=refusal)
        return facts

    def _page_facts_in(self, session: Session, token_hash: str) -> _PageFacts:
        repo = PaymentRepository(session)
        payment = repo.by_link_token_hash(token_hash)
        if payment is None:
            raise NotFound("unknown payment link")
        payment = expire_if_due(session, payment, self.clock())
        account = AccountRepository(session).get(payment.account_id)
        plan = PlanRepository(session).get(payment.plan_id) if payment.plan_id else None
        return _PageFacts(
            payment=payment,
            first_name=account.full_name.split()[0] if account else "",
            card_last4=account.card_last4 if account else "",
            plan_customer_id=plan.stripe_customer_id if plan else None,
            plan_has_card=bool(plan and plan.stripe_payment_method_id),
            later_payments=bool(plan and plan.payments_due_after(payment.installment_id)),
        )

    def _store_intent(self, payment_id: str, intent_id: str) -> str:
        """Remember the PaymentIntent; if another request stored one first, that one wins."""
        with self.sessions.begin() as session:
            stored = PaymentRepository(session).store_intent(payment_id, intent_id, self.clock()).payment_intent_id
            assert stored is not None
            return stored
