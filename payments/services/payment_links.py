"""One-time payment links: creating a payment and its link, replaying a key, a plan
installment's fresh link, reading payments, and the expiry of links nobody used.

Replaying `create_payment` with the same key returns the same payment. The raw link token is
not stored (only its SHA-256), so it cannot be shown again: while the payment is still pending
a fresh link replaces the old one (the old one stops working, the expiry restarts); once the
payment is final there is no link (`link_url` is None). Reusing a key with a different amount,
channel or plan is refused (`Conflict`, code `idempotency_key_reused`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import Conflict, InvalidRequest, NotFound, UpstreamUnavailable
from payments.domain.ids import new_public_id
from payments.domain.money import Money
from payments.domain.payment import Payment, PaymentMethod, PaymentStatus
from payments.domain.plan import InstallmentStatus, PlanStatus
from payments.services.clock import Clock, utc_now
from payments.services.payment_use_case import PaymentUseCase, audit_payment, expire_if_due, hash_link_token
from payments.services.ports import PaymentGateway
from payments.services.standing import refuse_unless_collectable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedPayment:
    payment: Payment
    link_url: str | None
    link_expires_at: datetime | None
    replayed: bool


def new_payment(
    session: Session,
    now: datetime,
    account_id: str,
    amount_cents: int,
    channel: str,
    key: str,
    conversation_id: str | None,
    plan_id: str | None,
    installment_id: int | None,
    method: PaymentMethod,
) -> Payment:
    """A pending payment, after the amount, the account's standing and the plan are checked."""
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
        plans = PlanRepository(session)
        plan = plans.get(plan_id)
        if plan is None or plan.account_id != account_id:
            raise NotFound(f"no plan {plan_id} on this account")
        if plan.status is not PlanStatus.ACTIVE:
            raise Conflict(f"plan {plan_id} is {plan.status}", code="plan_not_active")
        if installment_id is not None:
            if plan.installment(installment_id) is None:
                raise NotFound(f"no installment {installment_id} in plan {plan_id}")
        else:
            installment_id = plans.next_unpaid_installment(plan_id, amount_cents)
    elif installment_id is not None:
        raise InvalidRequest("an installment needs its plan_id", code="invalid_request")
    payment_id = new_public_id("PAY")
    while repo.exists(payment_id):
        payment_id = new_public_id("PAY")
    payment = Payment(
        id=payment_id,
        account_id=account_id,
        amount=Money(amount_cents, account.balance.currency),
        status=PaymentStatus.PENDING,
        method=method,
        channel=channel,
        conversation_id=conversation_id,
        plan_id=plan_id,
        installment_id=installment_id,
        failure_code=None,
        created_at=now,
        updated_at=now,
        completed_at=None,
    )
    repo.add(payment, idempotency_key=key)
    return payment


class PaymentLinks(PaymentUseCase):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: PaymentGateway,
        *,
        public_url: str,
        link_ttl_minutes: int = 30,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(sessions, gateway, clock=clock)
        self.public_url = public_url.rstrip("/")
        self.link_ttl = timedelta(minutes=link_ttl_minutes)

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
        (`Conflict`, `plan_not_active`). With `plan_id` the card is kept for the plan's later
        charges, and the payment pays `installment_id` (or else the plan's earliest unpaid
        installment of exactly this amount, if there is one).
        """
        key = f"{account_id}:{idempotency_key}"
        for attempt in (1, 2):
            try:
                with self.sessions.begin() as session:
                    existing = PaymentRepository(session).by_idempotency_key(key)
                    if existing is not None:
                        return self._replay(session, existing, amount_cents, channel, plan_id)
                    payment = new_payment(
                        session, self.clock(), account_id, amount_cents, channel, key, conversation_id, plan_id,
                        installment_id, PaymentMethod.LINK,
                    )  # fmt: skip
                    token, payment = self._issue_link(session, payment)
                    audit_payment(
                        session,
                        "payment_created",
                        payment,
                        at=payment.created_at,
                        actor="assistant",
                        detail={
                            "amount_cents": amount_cents,
                            "currency": payment.currency,
                            "method": payment.method.value,
                            "plan_id": payment.plan_id,
                            "installment_id": payment.installment_id,
                        },
                    )
                    return CreatedPayment(payment, self._link_url(token), payment.link_expires_at, replayed=False)
            except IntegrityError:
                # The same key created concurrently: the other request won; replay it.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _issue_link(self, session: Session, payment: Payment) -> tuple[str, Payment]:
        """A fresh link token for the payment, and the payment with its new expiry."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        payment = PaymentRepository(session).issue_link(payment.id, hash_link_token(token), now + self.link_ttl, now)
        return token, payment

    def _link_url(self, token: str) -> str:
        return f"{self.public_url}/pay/{token}"

    def _replay(
        self, session: Session, payment: Payment, amount_cents: int, channel: str, plan_id: str | None
    ) -> CreatedPayment:
        if (payment.amount_cents, payment.channel, payment.plan_id) != (amount_cents, channel, plan_id):
            raise Conflict("this idempotency key was used for a different payment", code="idempotency_key_reused")
        payment = expire_if_due(session, payment, self.clock())
        if payment.status is not PaymentStatus.PENDING or payment.method is not PaymentMethod.LINK:
            # Final, or being charged another way: no link to give.
            return CreatedPayment(payment, None, None, replayed=True)
        token, payment = self._issue_link(session, payment)
        audit_payment(session, "payment_link_reissued", payment, at=self.clock(), actor="assistant", detail={})
        return CreatedPayment(payment, self._link_url(token), payment.link_expires_at, replayed=True)

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
            found = PlanRepository(session).installment_in_plan(installment_id)
            if found is None:
                raise NotFound(f"no installment {installment_id}")
            plan, installment = found
            if installment.status is InstallmentStatus.PAID:
                raise Conflict(f"installment {installment_id} is already paid", code="installment_paid")
            account = AccountRepository(session).get(plan.account_id)
            assert account is not None
            amount = min(installment.amount_cents, account.balance.amount_cents)
            links = [p for p in repo.for_installment(installment_id) if p.method is PaymentMethod.LINK]
            if links:
                links[0] = expire_if_due(session, links[0], self.clock())
            pending = bool(links) and links[0].status is PaymentStatus.PENDING
            if pending:
                amount = links[0].amount_cents  # the replay must match the payment it replays
            attempt = len(links) + (0 if pending else 1)
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
            payment = PaymentRepository(session).get(payment_id)
            if payment is None:
                raise NotFound(f"no payment {payment_id}")
            return expire_if_due(session, payment, self.clock())

    def recent_payments(self, account_id: str, limit: int = 10) -> list[Payment]:
        """Newest first, for "I already paid"."""
        with self.sessions.begin() as session:
            if AccountRepository(session).get(account_id) is None:
                raise NotFound(f"no account {account_id}")
            payments = PaymentRepository(session).for_account(account_id, max(1, min(limit, 50)))
            return [expire_if_due(session, p, self.clock()) for p in payments]

    # ------------------------------------------------------------------ expiry

    async def cancel_expired_intents(self, limit: int = 50) -> int:
        """Expire link payments whose link ran out, and cancel the PaymentIntent of every expired
        link at Stripe, so its client secret can pay nothing more (issue 11). Run by the
        scheduler each pass; idempotent (Stripe key `cancel-{payment id}`). A Stripe outage leaves
        the rest for the next pass. Returns how many intents were cancelled."""

        def due() -> list[tuple[str, str]]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                for payment in repo.links_past_expiry(self.clock(), limit):
                    expire_if_due(session, payment, self.clock())
                return [
                    (p.id, p.payment_intent_id) for p in repo.expired_intents_to_cancel(limit) if p.payment_intent_id
                ]

        def mark(payment_id: str, status: str) -> None:
            with self.sessions.begin() as session:
                payment = PaymentRepository(session).mark_intent_canceled(payment_id, self.clock())
                detail = {"stripe_status": status}
                audit_payment(
                    session, "payment_intent_canceled", payment, at=self.clock(), actor="system", detail=detail
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
