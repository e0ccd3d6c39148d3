"""Payments: one-time payment links, the payment page's PaymentIntent, Twilio <Pay> tokens,
off-session installment charges, and Stripe webhooks as the source of truth (DESIGN.md, payments).

Each public method owns its transactions. Methods that talk to Stripe are coroutines: they never
hold a database transaction open across a Stripe call (their database work runs in a worker
thread, in short transactions before and after the call). The others are plain functions.

States of a payment: `pending` → `processing` → `succeeded` | `failed` | `canceled`, and
`expired` for a link nobody used in time. A payment reaches `succeeded` at most once, and only
`succeeded` changes the balance. `failed` and `canceled` are reached only from `pending` or
`processing`, so a late or replayed failure never undoes a success; `succeeded` is accepted from
any other state, because Stripe saying the money moved is the truth even after a decline on an
earlier attempt or after the link expired.

Idempotency: a client's key is stored as `{account_id}:{key}` (so two accounts cannot collide);
installment charges use `installment-{installment_id}`; every Stripe call that can move money
carries a key derived from the payment (`payment-{id}`) so a retry never charges twice.

Replaying `create_payment` with the same key returns the same payment. The raw link token is
not stored (only its SHA-256), so it cannot be shown again: while the payment is still pending
a fresh link replaces the old one (the old one stops working, the expiry restarts); once the
payment is final there is no link (`link_url` is None). Reusing a key with a different amount,
channel or plan is refused (`Conflict`, code `idempotency_key_reused`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import AccountRow, AuditEventRow, PaymentRow, PlanRow
from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.repositories import AccountRepository, AuditLog
from payments.adapters.stripe_gateway import ChargeOutcome, PaymentGateway, PaymentIntentEvent
from payments.domain.accounts import AccountStatus
from payments.domain.compliance import HandoffReason
from payments.domain.errors import Conflict, Gone, InvalidRequest, NotFound, UpstreamUnavailable
from payments.domain.ids import new_public_id
from payments.domain.money import Money
from payments.domain.settlement import Balances, apply_payment, settle, settlement_paid
from payments.domain.standing import Purpose
from payments.services.clock import Clock, utc_now
from payments.services.handoffs import HandoffService
from payments.services.notifications import enqueue_rasa_intent
from payments.services.standing import refuse_unless_collectable

log = logging.getLogger(__name__)


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self not in (PaymentStatus.PENDING, PaymentStatus.PROCESSING)


class PaymentMethod(StrEnum):
    LINK = "link"
    IVR = "ivr"
    OFF_SESSION = "off_session"


# What the assistant can tell someone who says "I already paid", by status.
PROCESSING_NOTES = {
    PaymentStatus.PENDING: "Not paid yet: the payment was started but not completed.",
    PaymentStatus.PROCESSING: "The card payment is being processed; that usually takes a few minutes.",
    PaymentStatus.SUCCEEDED: (
        "Received and already applied to the balance; the card statement shows it within 1 to 2 business days."
    ),
    PaymentStatus.FAILED: "Not paid: the card was declined, so no money was taken.",
    PaymentStatus.EXPIRED: "Not paid: the payment link expired before it was used.",
    PaymentStatus.CANCELED: "Not paid: the payment was canceled, so no money was taken.",
}

# Stripe event type → the state it moves a payment to.
EVENT_TARGETS = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.canceled": PaymentStatus.CANCELED,
}

# PaymentIntent states in which the page may still collect a card.
_COLLECTABLE_INTENT_STATES = ("requires_payment_method", "requires_confirmation", "requires_action")


@dataclass(frozen=True)
class Payment:
    id: str
    account_id: str
    amount: Money
    status: PaymentStatus
    method: str
    channel: str
    conversation_id: str | None
    plan_id: str | None
    installment_id: int | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @property
    def processing_note(self) -> str:
        return PROCESSING_NOTES[self.status]


@dataclass(frozen=True)
class CreatedPayment:
    payment: Payment
    link_url: str | None
    link_expires_at: datetime | None
    replayed: bool


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
class ChargeResult:
    """`failed` carries `decline_code`; `unavailable` means Stripe did not answer (nothing recorded
    as failed; retry later with the same call)."""

    status: Literal["succeeded", "processing", "failed", "unavailable"]
    payment: Payment | None
    decline_code: str | None = None


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the payment changed state
    DUPLICATE = "duplicate"  # this event id was handled before
    IGNORED = "ignored"  # not ours, not a type we act on, or stale (no change)
    REJECTED = "rejected"  # contradicts what we stored (intent, amount, currency): an alert, no change
    HELD = "held"  # a success for an expired or cancelled payment: recorded for a person, not applied


# Log lines that need a person: alerting greps for this marker (fixed, never reworded).
ALERT = "SECURITY-ALERT"
# A success after these is held for a person. (A link cancelled because the account settled is
# not: that money is applied and recorded as overpaid, owed back, by the settlement rules.)
_LATE = (PaymentStatus.EXPIRED,)


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(row: PaymentRow) -> Payment:
    return Payment(
        id=row.id,
        account_id=row.account_id,
        amount=Money(row.amount_cents, row.currency),
        status=PaymentStatus(row.status),
        method=row.method,
        channel=row.channel,
        conversation_id=row.conversation_id,
        plan_id=row.plan_id,
        installment_id=row.installment_id,
        failure_code=row.failure_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


@dataclass(frozen=True)
class _PageFacts:
    payment: Payment
    first_name: str
    card_last4: str
    link_expires_at: datetime | None
    payment_intent_id: str | None
    plan_customer_id: str | None
    save_card: bool | None  # the customer's answer on the page; None: not asked (yet)
    plan_has_card: bool
    later_payments: bool  # the plan has payments due after this one (a card saved now would pay them)


def _asks_to_save_card(facts: _PageFacts) -> bool:
    """Only a plan payment with later payments and no saved card asks, and only before its
    PaymentIntent exists (the answer decides `setup_future_usage`). One-off payments, and a
    plan's last payment (a settlement's lump sum), never save a card."""
    payment = facts.payment
    return (
        payment.status == PaymentStatus.PENDING
        and payment.method == PaymentMethod.LINK
        and payment.plan_id is not None
        and facts.later_payments
        and not facts.plan_has_card
        and facts.save_card is None
        and facts.payment_intent_id is None
    )


class PaymentService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: PaymentGateway,
        *,
        public_url: str,
        link_ttl_minutes: int = 30,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.public_url = public_url.rstrip("/")
        self.link_ttl = timedelta(minutes=link_ttl_minutes)
        self.clock = clock

    # ------------------------------------------------------------------ creating

    def create_payment(
        self,
        account_id: str,
        amount_cents: int,
        channel: str,
        idempotency_key: str,
        conversation_id: str | None = None,
        plan_id: str | None = None,
        installment_id: int | None = None,
    ) -> CreatedPayment:
        """A pending payment and its one-time link `{public_url}/pay/{token}`.

        Refuses: amount not above zero or above the balance (`InvalidRequest`, codes
        `invalid_amount` / `amount_exceeds_balance`), unknown account or plan (`NotFound`),
        collection paused by any pause reason of the standing: a flag, a pending report, a
        settled account (`PolicyRefused`, `collection_paused`), a plan that is not active
        (`Conflict`, `plan_not_active`). With `plan_id` the card is kept for the plan's later charges, and the payment pays `installment_id` (or else the plan's earliest unpaid
        installment of exactly this amount, if there is one).
        """
        key = f"{account_id}:{idempotency_key}"
        for attempt in (1, 2):
            try:
                with self.sessions.begin() as session:
                    existing = PaymentRepository(session).by_idempotency_key(key)
                    if existing is not None:
                        return self._replay(session, existing, amount_cents, channel, plan_id)
                    row = self._new_payment(
                        session,
                        account_id,
                        amount_cents,
                        channel,
                        key,
                        conversation_id,
                        plan_id,
                        installment_id,
                        PaymentMethod.LINK,
                    )
                    token = self._issue_link(row)
                    AuditLog(session).record(
                        "payment_created",
                        at=row.created_at,
                        actor="assistant",
                        channel=channel,
                        account_id=account_id,
                        conversation_id=conversation_id,
                        detail={
                            "payment_id": row.id,
                            "amount_cents": amount_cents,
                            "currency": row.currency,
                            "method": row.method,
                            "plan_id": row.plan_id,
                            "installment_id": row.installment_id,
                        },
                    )
                    return CreatedPayment(_view(row), self._link_url(token), row.link_expires_at, replayed=False)
            except IntegrityError:
                # The same key created concurrently: the other request won; replay it.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _new_payment(
        self,
        session: Session,
        account_id: str,
        amount_cents: int,
        channel: str,
        key: str,
        conversation_id: str | None,
        plan_id: str | None,
        installment_id: int | None,
        method: PaymentMethod,
    ) -> PaymentRow:
        if amount_cents <= 0:
            raise InvalidRequest("the amount must be above zero", code="invalid_amount")
        account = AccountRepository(session).get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        refuse_unless_collectable(session, account_id)
        if amount_cents > account.balance.amount_cents:
            raise InvalidRequest("the amount is more than the balance", code="amount_exceeds_balance")
        repo = PaymentRepository(session)
        if plan_id is not None:
            plan = repo.plan(plan_id)
            if plan is None or plan.account_id != account_id:
                raise NotFound(f"no plan {plan_id} on this account")
            if plan.status != "active":
                raise Conflict(f"plan {plan_id} is {plan.status}", code="plan_not_active")
            if installment_id is not None:
                installment = repo.installment(installment_id)
                if installment is None or installment.plan_id != plan_id:
                    raise NotFound(f"no installment {installment_id} in plan {plan_id}")
            else:
                match = repo.next_unpaid_installment(plan_id, amount_cents)
                installment_id = match.id if match else None
        elif installment_id is not None:
            raise InvalidRequest("an installment needs its plan_id", code="invalid_request")
        now = self.clock()
        payment_id = new_public_id("PAY")
        while repo.exists(payment_id):
            payment_id = new_public_id("PAY")
        row = PaymentRow(
            id=payment_id,
            account_id=account_id,
            plan_id=plan_id,
            installment_id=installment_id,
            amount_cents=amount_cents,
            currency=account.balance.currency,
            status=PaymentStatus.PENDING.value,
            method=method.value,
            channel=channel,
            conversation_id=conversation_id,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
        )
        repo.add(row)
        return row

    def _issue_link(self, row: PaymentRow) -> str:
        token = secrets.token_urlsafe(32)
        row.link_token_hash = hash_link_token(token)
        row.link_expires_at = self.clock() + self.link_ttl
        row.updated_at = self.clock()
        return token

    def _link_url(self, token: str) -> str:
        return f"{self.public_url}/pay/{token}"

    def _replay(
        self, session: Session, row: PaymentRow, amount_cents: int, channel: str, plan_id: str | None
    ) -> CreatedPayment:
        if (row.amount_cents, row.channel, row.plan_id) != (amount_cents, channel, plan_id):
            raise Conflict("this idempotency key was used for a different payment", code="idempotency_key_reused")
        self._expire_if_due(session, row)
        if row.status != PaymentStatus.PENDING or row.method != PaymentMethod.LINK:
            # Final, or being charged another way: no link to give.
            return CreatedPayment(_view(row), None, None, replayed=True)
        token = self._issue_link(row)
        AuditLog(session).record(
            "payment_link_reissued",
            at=self.clock(),
            actor="assistant",
            channel=row.channel,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail={"payment_id": row.id},
        )
        session.flush()
        return CreatedPayment(_view(row), self._link_url(token), row.link_expires_at, replayed=True)

    def issue_link(self, installment_id: int, now: datetime | None = None) -> CreatedPayment:
        """A payment link for a plan installment (the scheduler's fresh link after a failed
        charge, or for a plan without a saved card), for the installment's amount (or the
        balance, if smaller).

        While the installment's last link payment is pending, the same payment comes back with a
        NEW link and the previous link stops working (only a hash of each is kept): call this
        only when the link is about to be sent. After that payment expired, failed or was
        canceled, a new payment is made. Raises `Conflict` (`installment_paid`) once paid.
        """
        with self.sessions.begin() as session:
            repo = PaymentRepository(session)
            installment = repo.installment(installment_id)
            if installment is None:
                raise NotFound(f"no installment {installment_id}")
            if installment.status == "paid":
                raise Conflict(f"installment {installment_id} is already paid", code="installment_paid")
            plan = repo.plan(installment.plan_id)
            account = repo.account(plan.account_id) if plan else None
            assert plan is not None and account is not None
            amount = min(installment.amount_cents, account.balance_cents)
            links = [p for p in repo.for_installment(installment_id) if p.method == PaymentMethod.LINK]
            for row in links[:1]:
                self._expire_if_due(session, row)
            if links and links[0].status == PaymentStatus.PENDING:
                amount = links[0].amount_cents  # the replay must match the payment it replays
            attempt = len(links) + (0 if links and links[0].status == PaymentStatus.PENDING else 1)
            plan_id, account_id, channel = plan.id, plan.account_id, plan.channel
            # An SMS thread can be told when the payment lands; web and voice sessions are over by then.
            conversation_id = plan.conversation_id if plan.channel == "sms" else None
        return self.create_payment(
            account_id,
            amount,
            channel,
            f"installment-link-{installment_id}-{attempt}",
            conversation_id=conversation_id,
            plan_id=plan_id,
            installment_id=installment_id,
        )

    # ------------------------------------------------------------------ reading

    def get_payment(self, payment_id: str) -> Payment:
        with self.sessions.begin() as session:
            row = PaymentRepository(session).get(payment_id)
            if row is None:
                raise NotFound(f"no payment {payment_id}")
            self._expire_if_due(session, row)
            return _view(row)

    def recent_payments(self, account_id: str, limit: int = 10) -> list[Payment]:
        """Newest first, for "I already paid"."""
        with self.sessions.begin() as session:
            if AccountRepository(session).get(account_id) is None:
                raise NotFound(f"no account {account_id}")
            rows = PaymentRepository(session).for_account(account_id, max(1, min(limit, 50)))
            for row in rows:
                self._expire_if_due(session, row)
            return [_view(r) for r in rows]

    def _expire_if_due(self, session: Session, row: PaymentRow) -> None:
        """A pending link payment whose link ran out is `expired` (a late Stripe success still counts)."""
        if (
            row.status == PaymentStatus.PENDING
            and row.method == PaymentMethod.LINK
            and row.link_expires_at is not None
            and self.clock() >= row.link_expires_at
            and PaymentRepository(session).claim_transition(
                row, PaymentStatus.PENDING.value, PaymentStatus.EXPIRED.value
            )
        ):
            row.updated_at = self.clock()
            row.completed_at = self.clock()
            AuditLog(session).record(
                "payment_expired",
                at=self.clock(),
                actor="system",
                channel=row.channel,
                account_id=row.account_id,
                conversation_id=row.conversation_id,
                detail={"payment_id": row.id},
            )

    async def cancel_expired_intents(self, limit: int = 50) -> int:
        """Expire link payments whose link ran out, and cancel the PaymentIntent of every expired
        link at Stripe, so its client secret can pay nothing more (issue 11). Run by the
        scheduler each pass; idempotent (Stripe key `cancel-{payment id}`). A Stripe outage leaves
        the rest for the next pass. Returns how many intents were cancelled."""

        def due() -> list[tuple[str, str]]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                for row in repo.links_past_expiry(self.clock(), limit):
                    self._expire_if_due(session, row)
                session.flush()
                return [
                    (r.id, r.stripe_payment_intent_id)
                    for r in repo.expired_intents_to_cancel(limit)
                    if r.stripe_payment_intent_id
                ]

        def mark(payment_id: str, status: str) -> None:
            with self.sessions.begin() as session:
                row = PaymentRepository(session).get(payment_id, for_update=True)
                assert row is not None
                row.stripe_intent_canceled_at = self.clock()
                AuditLog(session).record(
                    "payment_intent_canceled",
                    at=self.clock(),
                    actor="system",
                    channel=row.channel,
                    account_id=row.account_id,
                    conversation_id=row.conversation_id,
                    detail={"payment_id": row.id, "stripe_status": status},
                )

        cancelled = 0
        for payment_id, intent_id in await asyncio.to_thread(due):
            try:
                intent = await self.gateway.cancel_payment_intent(intent_id, idempotency_key=f"cancel-{payment_id}")
            except UpstreamUnavailable:
                log.warning("could not cancel the PaymentIntent of expired payment %s; next pass", payment_id)
                break
            # An intent that succeeded meanwhile is not cancelled: its webhook holds it for a person.
            await asyncio.to_thread(mark, payment_id, intent.status)
            cancelled += intent.status == "canceled"
        return cancelled

    # ------------------------------------------------------------------ the payment page

    async def page(self, token: str) -> PageView:
        """What the page at `/pay/{token}` needs, creating the PaymentIntent on first opening
        (Stripe key `payment-{id}`), so a Stripe outage when the link was made loses nothing.

        Raises `NotFound` (unknown token), `Gone` (`link_expired` / `link_used`), and
        `UpstreamUnavailable` when Stripe does not answer (the payment stays pending).
        """
        facts = await asyncio.to_thread(self._page_facts, hash_link_token(token))
        payment = facts.payment
        client_secret = None
        if payment.status == PaymentStatus.PENDING and _asks_to_save_card(facts):
            return PageView(
                payment_id=payment.id,
                first_name=facts.first_name,
                card_last4=facts.card_last4,
                amount=payment.amount,
                status=payment.status,
                client_secret=None,
                link_expires_at=facts.link_expires_at,
                asks_to_save_card=True,
            )
        saves_card = facts.save_card is True and facts.later_payments
        if payment.status == PaymentStatus.PENDING:
            intent_id = facts.payment_intent_id
            if intent_id is None:
                customer_id = facts.plan_customer_id
                if payment.plan_id and customer_id is None:
                    customer_id = await self._plan_customer(payment.plan_id, payment.account_id)
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
        return PageView(
            payment_id=payment.id,
            first_name=facts.first_name,
            card_last4=facts.card_last4,
            amount=payment.amount,
            # Stripe may be done before its webhook reaches us: then "processing", never a form.
            status=PaymentStatus.PROCESSING if client_secret is None else payment.status,
            client_secret=client_secret,
            link_expires_at=facts.link_expires_at,
            saves_card=saves_card,
        )

    def answer_card_saving(self, token: str, save: bool) -> None:
        """Record the customer's answer on the page to "save this card for your plan?" (audited).
        Only while the page still asks; a later answer changes nothing (the intent is made)."""
        with self.sessions.begin() as session:
            facts = self._page_facts_in(session, hash_link_token(token))
            if not _asks_to_save_card(facts):
                return
            row = PaymentRepository(session).get(facts.payment.id, for_update=True)
            assert row is not None
            row.save_card, row.updated_at = save, self.clock()
            AuditLog(session).record(
                "card_saving_answered",
                at=self.clock(),
                actor="customer",
                channel=row.channel,
                account_id=row.account_id,
                conversation_id=row.conversation_id,
                detail={"payment_id": row.id, "plan_id": row.plan_id, "save_card": save},
            )

    def _page_facts(self, token_hash: str) -> _PageFacts:
        with self.sessions.begin() as session:
            facts = self._page_facts_in(session, token_hash)
        # Raised after the commit, so an expiry found here is saved.
        self._refuse_unusable(facts)
        return facts

    def _page_facts_in(self, session: Session, token_hash: str) -> _PageFacts:
        repo = PaymentRepository(session)
        row = repo.by_link_token_hash(token_hash)
        if row is None:
            raise NotFound("unknown payment link")
        self._expire_if_due(session, row)
        account = repo.account(row.account_id)
        plan = repo.plan(row.plan_id) if row.plan_id else None
        return _PageFacts(
            payment=_view(row),
            first_name=account.full_name.split()[0] if account else "",
            card_last4=account.card_last4 if account else "",
            link_expires_at=row.link_expires_at,
            payment_intent_id=row.stripe_payment_intent_id,
            plan_customer_id=plan.stripe_customer_id if plan else None,
            save_card=row.save_card,
            plan_has_card=bool(plan and plan.stripe_payment_method_id),
            later_payments=bool(
                plan
                and any(
                    i.id != row.installment_id and i.status in ("scheduled", "failed", "missed")
                    for i in plan.installments
                )
            ),
        )

    @staticmethod
    def _refuse_unusable(facts: _PageFacts) -> None:
        status = facts.payment.status
        if status == PaymentStatus.EXPIRED:
            raise Gone("this payment link has expired", code="link_expired")
        if status.is_final or facts.payment.method != PaymentMethod.LINK:
            raise Gone("this payment link was already used", code="link_used")

    def _store_intent(self, payment_id: str, intent_id: str) -> str:
        """Remember the PaymentIntent; if another request stored one first, that one wins."""
        with self.sessions.begin() as session:
            row = PaymentRepository(session).get(payment_id, for_update=True)
            assert row is not None
            if row.stripe_payment_intent_id is None:
                row.stripe_payment_intent_id = intent_id
                row.updated_at = self.clock()
            return row.stripe_payment_intent_id

    def link_status(self, token: str) -> LinkStatus:
        """The payment's status for the page to poll after Stripe.js confirmed (webhooks decide it)."""
        with self.sessions.begin() as session:
            row = PaymentRepository(session).by_link_token_hash(hash_link_token(token))
            if row is None:
                raise NotFound("unknown payment link")
            self._expire_if_due(session, row)
            return LinkStatus(row.id, PaymentStatus(row.status), Money(row.amount_cents, row.currency))

    async def _plan_customer(self, plan_id: str, account_id: str) -> str:
        """The plan's Stripe customer, created once (Stripe key `customer-{plan_id}`)."""
        customer_id = await self.gateway.create_customer(account_id=account_id, idempotency_key=f"customer-{plan_id}")

        def store() -> str:
            with self.sessions.begin() as session:
                plan = PaymentRepository(session).plan(plan_id, for_update=True)
                assert plan is not None
                if plan.stripe_customer_id is None:
                    plan.stripe_customer_id = customer_id
                return plan.stripe_customer_id

        return await asyncio.to_thread(store)

    # ------------------------------------------------------------------ webhooks

    def handle_stripe_event(self, event: PaymentIntentEvent) -> EventOutcome:
        """Apply a verified Stripe event once. The event id is recorded first, in the same
        transaction, so a replay (or a concurrent duplicate) changes nothing."""
        try:
            return self._handle_event(event)
        except IntegrityError:
            # The same event id, delivered twice at once: the other delivery applied it.
            return EventOutcome.DUPLICATE

    def _handle_event(self, event: PaymentIntentEvent) -> EventOutcome:
        """Only Stripe's facts count: the event's PaymentIntent must be the one stored for the
        payment (metadata names a payment only for an off-session or <Pay> charge whose intent id
        is not stored yet), and its amount and currency must be the payment's. Anything else is
        ignored, audited and logged as an alert. A success for an expired payment is held for a
        person (audit alert and a handoff case), never applied."""
        late: PaymentRow | None = None
        changed, overpaid = False, 0
        with self.sessions.begin() as session:
            repo = PaymentRepository(session)
            if not repo.mark_event_handled(event.id, event.type, self.clock()):
                return EventOutcome.DUPLICATE
            target = EVENT_TARGETS.get(event.type)
            if target is None:
                return EventOutcome.IGNORED
            row = repo.by_payment_intent(event.payment_intent_id, for_update=True) if event.payment_intent_id else None
            if row is None and event.payment_id:
                named = repo.get(event.payment_id, for_update=True)
                if named is None:
                    log.info("Stripe event %s (%s) is for no payment of ours", event.id, event.type)
                    return EventOutcome.IGNORED
                # Off-session and <Pay> charges can be settled by the webhook before we stored the id.
                if named.stripe_payment_intent_id is not None or named.method == PaymentMethod.LINK:
                    return self._reject(session, named, event, "payment_intent_mismatch")
                row = named
            if row is None:
                log.info("Stripe event %s (%s) is for no payment of ours", event.id, event.type)
                return EventOutcome.IGNORED
            if event.amount_cents != row.amount_cents or (event.currency or "").upper() != row.currency.upper():
                return self._reject(session, row, event, "amount_or_currency_mismatch")
            if row.stripe_payment_intent_id is None and event.payment_intent_id:
                row.stripe_payment_intent_id = event.payment_intent_id
            if target == PaymentStatus.SUCCEEDED and PaymentStatus(row.status) in _LATE:
                self._hold_late_success(session, row, event)
                late = row
            else:
                changed = self._settle(
                    session,
                    row,
                    target,
                    actor="stripe",
                    failure_code=event.failure_code,
                    customer_id=event.customer_id,
                    payment_method_id=event.payment_method_id,
                )
                overpaid = _overpaid_cents(session, row) if changed and target == PaymentStatus.SUCCEEDED else 0
        if late is not None:
            self._late_success_case(late)
            return EventOutcome.HELD
        if overpaid:
            # Money beyond the balance (a link paid after the account settled): owed back, so a
            # person refunds it; never left as a silent credit.
            self._money_case(
                row,
                f"Stripe charged {Money(overpaid, row.currency).display()} more than the balance "
                f"with payment {row.id}. Refund that part in Stripe.",
                {"payment_id": row.id, "overpaid_cents": overpaid},
            )
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED

    def _reject(self, session: Session, row: PaymentRow, event: PaymentIntentEvent, why: str) -> EventOutcome:
        """Audit and alert on an event that contradicts the stored payment; change nothing else."""
        AuditLog(session).record(
            "stripe_event_rejected",
            at=self.clock(),
            actor="stripe",
            channel=row.channel,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail={
                "payment_id": row.id,
                "event_id": event.id,
                "event_type": event.type,
                "why": why,
                "event_payment_intent": event.payment_intent_id,
                "stored_payment_intent": row.stripe_payment_intent_id,
                "event_amount_cents": event.amount_cents,
                "event_currency": event.currency,
            },
        )
        log.error("%s Stripe event %s (%s) rejected for payment %s: %s", ALERT, event.id, event.type, row.id, why)
        return EventOutcome.REJECTED

    def _hold_late_success(self, session: Session, row: PaymentRow, event: PaymentIntentEvent) -> None:
        AuditLog(session).record(
            "payment_late_success_held",
            at=self.clock(),
            actor="stripe",
            channel=row.channel,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail={
                "payment_id": row.id,
                "status": row.status,
                "event_id": event.id,
                "payment_intent": event.payment_intent_id,
                "amount_cents": row.amount_cents,
                "currency": row.currency,
            },
        )
        log.error(
            "%s payment %s succeeded at Stripe after it was %s: held for a person to refund or apply",
            ALERT,
            row.id,
            row.status,
        )

    def _late_success_case(self, row: PaymentRow) -> None:
        """A case for a person: refund the late charge at Stripe, or apply it by hand."""
        money = Money(row.amount_cents, row.currency)
        self._money_case(
            row,
            f"Stripe charged {money.display()} for payment {row.id} after it was {row.status}. "
            "It was not applied to the balance: refund it in Stripe, or apply it by hand.",
            {"payment_id": row.id, "late_success": True},
        )

    def _money_case(self, row: PaymentRow, summary: str, context: dict[str, object]) -> None:
        """A handoff case for money only a person can put right (after the payment's transaction)."""
        HandoffService(self.sessions, clock=self.clock).create(
            conversation_id=row.conversation_id or f"payment-{row.id}",
            channel=row.channel,
            reason=HandoffReason.OTHER,
            verified=False,
            account_id=row.account_id,
            summary=summary,
            context=context,
        )

    def _settle(
        self,
        session: Session,
        row: PaymentRow,
        target: PaymentStatus,
        *,
        actor: str,
        failure_code: str | None = None,
        customer_id: str | None = None,
        payment_method_id: str | None = None,
    ) -> bool:
        """Move a payment to `target` if that is allowed from where it is; True when it moved.
        The move is a compare-and-set in the database, so of two concurrent callers one wins."""
        repo = PaymentRepository(session)
        while True:
            current = PaymentStatus(row.status)
            if target == current:
                return False
            if target == PaymentStatus.PROCESSING and current != PaymentStatus.PENDING:
                return False
            if target in (PaymentStatus.FAILED, PaymentStatus.CANCELED) and current.is_final:
                return False  # never replaces a final state, above all not a success
            if repo.claim_transition(row, current.value, target.value):
                break
            # Someone else moved it meanwhile (row now reloaded): decide again from there.
        if target == PaymentStatus.SUCCEEDED and current.is_final:
            log.warning("payment %s succeeded at Stripe after it was %s", row.id, current.value)

        now = self.clock()
        row.updated_at = now
        audit = AuditLog(session)
        detail: dict[str, object] = {
            "payment_id": row.id,
            "amount_cents": row.amount_cents,
            "currency": row.currency,
            "method": row.method,
            "previous_status": current.value,
        }
        if target == PaymentStatus.PROCESSING:
            audit.record(
                "payment_processing",
                at=now,
                actor=actor,
                channel=row.channel,
                account_id=row.account_id,
                conversation_id=row.conversation_id,
                detail=detail,
            )
            return True

        row.completed_at = now
        if target == PaymentStatus.SUCCEEDED:
            row.failure_code = None
            detail |= self._apply_to_account(session, row)
            if row.plan_id:
                self._apply_to_plan(
                    session, repo.plan(row.plan_id, for_update=True), row, customer_id, payment_method_id, now, actor
                )
                detail |= self._close_if_settled(session, row, now, actor)
        else:
            row.failure_code = (failure_code or "card_declined")[:64] if target == PaymentStatus.FAILED else None
            detail["failure_code"] = row.failure_code
            if target == PaymentStatus.FAILED and row.installment_id is not None:
                installment = repo.installment(row.installment_id)
                if installment is not None and installment.status != "paid":
                    installment.status = "failed"
        audit.record(
            f"payment_{target.value}",
            at=now,
            actor=actor,
            channel=row.channel,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail=detail,
        )
        if row.conversation_id and target in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            enqueue_rasa_intent(
                session,
                conversation_id=row.conversation_id,
                channel=row.channel,
                intent=f"payment_{target.value}",
                entities={
                    "payment_id": row.id,
                    "amount_cents": row.amount_cents,
                    "currency": row.currency,
                    # Only on the payment that closed a settlement, so the bot can say so.
                    **({"account_settled": True} if detail.get("account_settled") else {}),
                },
                dedupe_key=f"payment-{row.id}-{target.value}",
                now=now,
                account_id=row.account_id,
                # The answer to the customer's own payment: sent at once, even to a paused account.
                purpose=Purpose.NOTICE,
            )
        return True

    def _apply_to_account(self, session: Session, row: PaymentRow) -> dict[str, object]:
        account: AccountRow | None = PaymentRepository(session).account(row.account_id, for_update=True)
        if account is None:  # pragma: no cover - a foreign key guarantees it
            return {}
        before = account.balance_cents
        account.balance_cents, account.past_due_cents, account.minimum_due_cents = apply_payment(
            account.balance_cents, account.past_due_cents, account.minimum_due_cents, row.amount_cents
        )
        if account.past_due_cents == 0 and account.status == AccountStatus.DELINQUENT.value:
            # Paying the past due brings the account current (DESIGN.md, plan policy).
            account.status = AccountStatus.CURRENT.value
            account.delinquent_since = None
        detail: dict[str, object] = {
            "balance_before_cents": before,
            "balance_after_cents": account.balance_cents,
            "past_due_after_cents": account.past_due_cents,
        }
        if row.amount_cents > before:
            # Money that arrived beyond the balance (a late payment on a settled account): owed back.
            detail["overpaid_cents"] = row.amount_cents - before
            log.warning(
                "payment %s paid %d cents beyond the balance of %s", row.id, row.amount_cents - before, row.account_id
            )
        return detail

    def _apply_to_plan(
        self,
        session: Session,
        plan: PlanRow | None,
        row: PaymentRow,
        customer_id: str | None,
        payment_method_id: str | None,
        now: datetime,
        actor: str,
    ) -> None:
        if plan is None:
            return
        audit = AuditLog(session)
        # A link payment keeps the card only when the customer said yes on the page (`save_card`).
        consented = row.method != PaymentMethod.LINK or row.save_card is True
        if plan.stripe_payment_method_id is None and payment_method_id and customer_id and consented:
            # The card was confirmed with setup_future_usage=off_session: keep it for the plan.
            plan.stripe_customer_id = plan.stripe_customer_id or customer_id
            plan.stripe_payment_method_id = payment_method_id
            audit.record(
                "plan_payment_method_saved",
                at=now,
                actor=actor,
                channel=row.channel,
                account_id=row.account_id,
                conversation_id=row.conversation_id,
                detail={"plan_id": plan.id, "payment_id": row.id},
            )
        if row.installment_id is not None:
            installment = PaymentRepository(session).installment(row.installment_id)
            if installment is not None:
                installment.status = "paid"
        # Completing a plan whose installments are all paid is the scheduler's (services/scheduler.py),
        # except a settlement, which closes the account at once (`_close_if_settled`).

    def _close_if_settled(self, session: Session, row: PaymentRow, now: datetime, actor: str) -> dict[str, object]:
        """The last payment of a settlement plan closes the account as settled: balance, past due
        and minimum due to zero, the forgiven remainder in the audit trail, the plan completed."""
        repo = PaymentRepository(session)
        plan = repo.plan(row.plan_id) if row.plan_id else None
        if plan is None or plan.status not in ("active", "suspended"):
            return {}
        if not settlement_paid(plan.settles_balance, (i.status for i in plan.installments)):
            return {}
        account = repo.account(row.account_id, for_update=True)
        assert account is not None  # a foreign key guarantees it
        closed = settle(Balances(account.balance_cents, account.past_due_cents, account.minimum_due_cents))
        before_status = account.status
        account.balance_cents, account.past_due_cents, account.minimum_due_cents = (
            closed.balances.balance_cents,
            closed.balances.past_due_cents,
            closed.balances.minimum_due_cents,
        )
        account.status, account.delinquent_since = AccountStatus.SETTLED.value, None
        plan.status, plan.ended_at = "completed", now
        paid_cents = sum(i.amount_cents for i in plan.installments)
        audit = AuditLog(session)
        audit.record(
            "account_settled",
            at=now,
            actor=actor,
            channel=row.channel,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            detail={
                "plan_id": plan.id,
                "payment_id": row.id,
                "paid_cents": paid_cents,
                "forgiven_cents": closed.forgiven_cents,
                "currency": row.currency,
                "status_before": before_status,
            },
        )
        audit.record(
            "plan_completed",
            at=now,
            actor=actor,
            channel=plan.channel,
            account_id=plan.account_id,
            detail={"plan_id": plan.id, "settled": True},
        )
        # Nothing is owed any more: links and charges still waiting would ask for money we must not take.
        for other in repo.for_account(row.account_id, 50):
            if (
                other.id != row.id
                and other.status == PaymentStatus.PENDING
                and repo.claim_transition(other, PaymentStatus.PENDING.value, PaymentStatus.CANCELED.value)
            ):
                other.updated_at = other.completed_at = now
                audit.record(
                    "payment_canceled",
                    at=now,
                    actor="system",
                    channel=other.channel,
                    account_id=other.account_id,
                    conversation_id=other.conversation_id,
                    detail={"payment_id": other.id, "reason": "account_settled"},
                )
        return {"account_settled": True, "forgiven_cents": closed.forgiven_cents}

    # ------------------------------------------------------------------ charging saved cards and tokens

    async def charge_ivr_token(
        self,
        payment_method_token: str,
        idempotency_key: str,
        *,
        payment_id: str | None = None,
        account_id: str | None = None,
        amount_cents: int | None = None,
        conversation_id: str | None = None,
        channel: str = "voice",
    ) -> ChargeResult:
        """Charge the PaymentMethod id Twilio <Pay> returned (Stripe connector, tokenType
        payment-method), for an existing pending payment (`payment_id`) or a new one
        (`account_id` + `amount_cents`, same amount rules as `create_payment`).

        `idempotency_key` names this attempt: it is the Stripe key of the charge (and, for a new
        payment, the payment's key). A payment already final is not charged again: its result is
        returned. A payment whose link page already made a PaymentIntent is refused (`Conflict`,
        `payment_in_progress`), so one payment can never be paid twice by two routes.
        """

        def prepare() -> tuple[Payment, str | None, ChargeResult | None]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                if payment_id is not None:
                    row = repo.get(payment_id, for_update=True)
                    if row is None:
                        raise NotFound(f"no payment {payment_id}")
                else:
                    if account_id is None or amount_cents is None:
                        raise InvalidRequest("give payment_id, or account_id and amount_cents")
                    key = f"{account_id}:{idempotency_key}"
                    row = repo.by_idempotency_key(key)
                    if row is None:
                        row = self._new_payment(
                            session,
                            account_id,
                            amount_cents,
                            channel,
                            key,
                            conversation_id,
                            None,
                            None,
                            PaymentMethod.IVR,
                        )
                        AuditLog(session).record(
                            "payment_created",
                            at=row.created_at,
                            actor="assistant",
                            channel=channel,
                            account_id=account_id,
                            conversation_id=conversation_id,
                            detail={"payment_id": row.id, "amount_cents": amount_cents, "method": row.method},
                        )
                self._expire_if_due(session, row)
                status = PaymentStatus(row.status)
                if status == PaymentStatus.EXPIRED:
                    raise Gone("this payment expired", code="payment_expired")
                if status != PaymentStatus.PENDING:
                    return _view(row), None, _result_of(row)
                # Standing again at charge time: the payment may have been made before a pause.
                refuse_unless_collectable(session, row.account_id)
                if row.method == PaymentMethod.LINK and row.stripe_payment_intent_id:
                    raise Conflict("this payment is being paid on its payment page", code="payment_in_progress")
                if row.method != PaymentMethod.IVR:
                    row.method = PaymentMethod.IVR.value  # the link no longer works (page checks the method)
                    row.updated_at = self.clock()
                customer_id = None
                if row.plan_id:
                    plan = repo.plan(row.plan_id)
                    customer_id = plan.stripe_customer_id if plan else None
                return _view(row), customer_id, None

        payment, customer_id, done = await asyncio.to_thread(prepare)
        if done is not None:
            return done
        if payment.plan_id and customer_id is None:
            customer_id = await self._plan_customer(payment.plan_id, payment.account_id)
        try:
            outcome = await self.gateway.charge_payment_method(
                amount_cents=payment.amount.amount_cents,
                currency=payment.amount.currency,
                payment_method_id=payment_method_token,
                metadata={"payment_id": payment.id, "account_id": payment.account_id},
                idempotency_key=f"ivr-{payment.id}-{idempotency_key}"[:255],
                customer_id=customer_id,
                save_for_later=payment.plan_id is not None,
            )
        except UpstreamUnavailable:
            return ChargeResult("unavailable", payment)
        return await asyncio.to_thread(self._record_charge, payment.id, outcome)

    async def charge_installment(self, installment_id: int, now: datetime | None = None) -> ChargeResult:
        """Charge a plan installment to the plan's saved card, off-session (for the scheduler).

        Idempotent: the payment's key is `installment-{installment_id}` and the Stripe key
        `payment-{payment id}`; a call after a final result returns it without charging again.
        Returns `succeeded`, `processing`, `failed` with the decline code (also
        `no_saved_payment_method` when the plan has no saved card; no payment is made then), or
        `unavailable` (Stripe did not answer; the payment stays pending for the next run).
        The installment is marked `paid` or `failed`; fresh links and broken plans are the
        scheduler's. Raises `NotFound`, `Conflict` (`plan_not_active`, `installment_paid`),
        `PolicyRefused` (`collection_paused`) and `InvalidRequest` (`nothing_due`: balance is zero).
        The payment has no conversation id: the scheduler decides what to tell the customer.
        """
        at = now or self.clock()

        def prepare() -> tuple[Payment | None, PlanRow | None, ChargeResult | None]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                installment = repo.installment(installment_id)
                if installment is None:
                    raise NotFound(f"no installment {installment_id}")
                plan = repo.plan(installment.plan_id)
                assert plan is not None
                existing = repo.by_idempotency_key(f"installment-{installment_id}")
                if existing is not None and existing.status != PaymentStatus.PENDING:
                    return _view(existing), plan, _result_of(existing)
                # Standing is checked again at charge time, also for a payment left pending by an
                # earlier pass (a flag may have been set since).
                refuse_unless_collectable(session, plan.account_id)
                if existing is None:
                    if installment.status == "paid":
                        raise Conflict(f"installment {installment_id} is already paid", code="installment_paid")
                    if plan.status != "active":
                        raise Conflict(f"plan {plan.id} is {plan.status}", code="plan_not_active")
                    if not (plan.stripe_customer_id and plan.stripe_payment_method_id):
                        return None, plan, ChargeResult("failed", None, "no_saved_payment_method")
                    account = AccountRepository(session).get(plan.account_id)
                    assert account is not None
                    amount = min(installment.amount_cents, account.balance.amount_cents)
                    if amount <= 0:
                        raise InvalidRequest("nothing is owed on this account", code="nothing_due")
                    existing = self._new_payment(
                        session,
                        plan.account_id,
                        amount,
                        plan.channel,
                        f"installment-{installment_id}",
                        None,
                        plan.id,
                        installment_id,
                        PaymentMethod.OFF_SESSION,
                    )
                    AuditLog(session).record(
                        "payment_created",
                        at=at,
                        actor="scheduler",
                        channel=plan.channel,
                        account_id=plan.account_id,
                        detail={
                            "payment_id": existing.id,
                            "amount_cents": amount,
                            "method": existing.method,
                            "plan_id": plan.id,
                            "installment_id": installment_id,
                        },
                    )
                return _view(existing), plan, None

        payment, plan, done = await asyncio.to_thread(prepare)
        if done is not None:
            return done
        assert payment is not None and plan is not None
        if not (plan.stripe_customer_id and plan.stripe_payment_method_id):
            return ChargeResult("failed", payment, "no_saved_payment_method")
        try:
            outcome = await self.gateway.charge_off_session(
                amount_cents=payment.amount.amount_cents,
                currency=payment.amount.currency,
                customer_id=plan.stripe_customer_id,
                payment_method_id=plan.stripe_payment_method_id,
                metadata={"payment_id": payment.id, "account_id": payment.account_id},
                idempotency_key=f"payment-{payment.id}",
            )
        except UpstreamUnavailable:
            return ChargeResult("unavailable", payment)
        return await asyncio.to_thread(self._record_charge, payment.id, outcome)

    def _record_charge(self, payment_id: str, outcome: ChargeOutcome) -> ChargeResult:
        """Apply Stripe's direct answer to a charge; the webhook that follows changes nothing."""
        with self.sessions.begin() as session:
            row = PaymentRepository(session).get(payment_id, for_update=True)
            assert row is not None
            if row.stripe_payment_intent_id is None and outcome.payment_intent_id:
                row.stripe_payment_intent_id = outcome.payment_intent_id
            if outcome.status == "succeeded":
                self._settle(
                    session,
                    row,
                    PaymentStatus.SUCCEEDED,
                    actor="stripe",
                    customer_id=outcome.customer_id,
                    payment_method_id=outcome.payment_method_id,
                )
            elif outcome.status == "processing":
                self._settle(session, row, PaymentStatus.PROCESSING, actor="stripe")
            else:
                # Off-session and by phone nobody can complete 3-D Secure: that is a failure too.
                code = outcome.decline_code if outcome.status == "declined" else "authentication_required"
                self._settle(session, row, PaymentStatus.FAILED, actor="stripe", failure_code=code)
            return _result_of(row)


def _overpaid_cents(session: Session, row: PaymentRow) -> int:
    """What the payment's success paid beyond the balance (its `payment_succeeded` audit detail)."""
    detail = (
        session.scalar(
            select(AuditEventRow.detail)
            .where(AuditEventRow.kind == "payment_succeeded", AuditEventRow.account_id == row.account_id)
            .order_by(AuditEventRow.id.desc())
            .limit(1)
        )
        or {}
    )
    if detail.get("payment_id") != row.id:
        return 0
    return int(detail.get("overpaid_cents") or 0)


def _result_of(row: PaymentRow) -> ChargeResult:
    status = PaymentStatus(row.status)
    if status == PaymentStatus.SUCCEEDED:
        return ChargeResult("succeeded", _view(row))
    if status in (PaymentStatus.PROCESSING, PaymentStatus.PENDING):
        return ChargeResult("processing", _view(row))
    return ChargeResult("failed", _view(row), row.failure_code or status.value)
