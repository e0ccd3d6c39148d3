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

from payments.adapters.orm import PaymentRow
from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import Conflict, InvalidRequest, NotFound, UpstreamUnavailable
from payments.domain.ids import new_public_id
from payments.domain.payment import Payment, PaymentMethod, PaymentStatus
from payments.domain.plan import InstallmentStatus, PlanStatus
from payments.services.clock import Clock, utc_now
from payments.services.payment_rows import PaymentUseCase, audit_payment, expire_if_due, hash_link_token, payment_of
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
) -> PaymentRow:
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
        plan = repo.plan(plan_id)
        if plan is None or plan.account_id != account_id:
            raise NotFound(f"no plan {plan_id} on this account")
        if plan.status != PlanStatus.ACTIVE:
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
                    row = new_payment(
                        session, self.clock(), account_id, amount_cents, channel, key, conversation_id, plan_id,
                        installment_id, PaymentMethod.LINK,
                    )  # fmt: skip
                    token = self._issue_link(row)
                    audit_payment(
                        session,
                        "payment_created",
                        row,
                        at=row.created_at,
                        actor="assistant",
                        detail={
                            "amount_cents": amount_cents,
                            "currency": row.currency,
                            "method": row.method,
                            "plan_id": row.plan_id,
                            "installment_id": row.installment_id,
                        },
                    )
                    return CreatedPayment(payment_of(row), self._link_url(token), row.link_expires_at, replayed=False)
            except IntegrityError:
                # The same key created concurrently: the other request won; replay it.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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
        expire_if_due(session, row, self.clock())
        if row.status != PaymentStatus.PENDING or row.method != PaymentMethod.LINK:
            # Final, or being charged another way: no link to give.
            return CreatedPayment(payment_of(row), None, None, replayed=True)
        token = self._issue_link(row)
        audit_payment(session, "payment_link_reissued", row, at=self.clock(), actor="assistant", detail={})
        session.flush()
        return CreatedPayment(payment_of(row), self._link_url(token), row.link_expires_at, replayed=True)

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
            if installment.status == InstallmentStatus.PAID:
                raise Conflict(f"installment {installment_id} is already paid", code="installment_paid")
            plan = repo.plan(installment.plan_id)
            account = repo.account(plan.account_id) if plan else None
            assert plan is not None and account is not None
            amount = min(installment.amount_cents, account.balance_cents)
            links = [p for p in repo.for_installment(installment_id) if p.method == PaymentMethod.LINK]
            for row in links[:1]:
                expire_if_due(session, row, self.clock())
            pending = bool(links) and links[0].status == PaymentStatus.PENDING
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
            row = PaymentRepository(session).get(payment_id)
            if row is None:
                raise NotFound(f"no payment {payment_id}")
            expire_if_due(session, row, self.clock())
            return payment_of(row)

    def recent_payments(self, account_id: str, limit: int = 10) -> list[Payment]:
        """Newest first, for "I already paid"."""
        with self.sessions.begin() as session:
            if AccountRepository(session).get(account_id) is None:
                raise NotFound(f"no account {account_id}")
            rows = PaymentRepository(session).for_account(account_id, max(1, min(limit, 50)))
            for row in rows:
                expire_if_due(session, row, self.clock())
            return [payment_of(r) for r in rows]

    # ------------------------------------------------------------------ expiry

    async def cancel_expired_intents(self, limit: int = 50) -> int:
        """Expire link payments whose link ran out, and cancel the PaymentIntent of every expired
        link at Stripe, so its client secret can pay nothing more (issue 11). Run by the
        scheduler each pass; idempotent (Stripe key `cancel-{payment id}`). A Stripe outage leaves
        the rest for the next pass. Returns how many intents were cancelled."""

        def due() -> list[tuple[str, str]]:
            with self.sessions.begin() as session:
                repo = PaymentRepository(session)
                for row in repo.links_past_expiry(self.clock(), limit):
                    expire_if_due(session, row, self.clock())
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
                detail = {"stripe_status": status}
                audit_payment(session, "payment_intent_canceled", row, at=self.clock(), actor="system", detail=detail)

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
