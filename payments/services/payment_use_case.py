"""What every payment use case shares: the audit record of a payment, and the one way a stored
payment changes state (`transition`: the domain decides, a compare-and-set in the database
makes it happen once).

The use cases (DESIGN.md, payments) are split by what they serve: `payment_links` (creating and
reading payments, their links and their expiry), `pay_page` (the customer's page),
`payment_events` (Stripe's word on a payment, and what a success does to the money) and
`charges` (<Pay> tokens and off-session installment charges). They work on domain objects
(`Payment`, `Plan`, `Account`) read from and written through `PaymentRepository`; no use case
touches a row. Each public method owns its transactions. Methods that talk to Stripe are
coroutines: they never hold a database transaction open across a Stripe call (their database
work runs in a worker thread, in short transactions before and after the call).

Idempotency: a client's key is stored as `{account_id}:{key}` (so two accounts cannot collide);
installment charges use `installment-{installment_id}`; every Stripe call that can move money
carries a key derived from the payment (`payment-{id}`) so a retry never charges twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AuditLog
from payments.domain.payment import Decision, Move, Payment, PaymentEvent, decide, link_ran_out
from payments.services.clock import Clock, utc_now
from payments.services.ports import PaymentGateway


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit_payment(
    session: Session, kind: str, payment: Payment, *, at: datetime, actor: str, detail: dict[str, Any]
) -> None:
    """An audit event about one payment, on its account, channel and conversation."""
    AuditLog(session).record(
        kind,
        at=at,
        actor=actor,
        channel=payment.channel,
        account_id=payment.account_id,
        conversation_id=payment.conversation_id,
        detail={"payment_id": payment.id, **detail},
    )


def transition(
    session: Session, payment: Payment, event: PaymentEvent, now: datetime, *, failure_code: str | None = None
) -> tuple[Decision, Payment]:
    """Ask the domain what `event` does to the stored payment and, for a move, make it: a
    compare-and-set in the database, so of two concurrent callers one wins (the loser decides
    again from the state the winner left). Returns the decision and the payment after it."""
    repo = PaymentRepository(session)
    while True:
        decision = decide(payment.status, event, method=payment.method, failure_code=failure_code)
        if not isinstance(decision, Move):
            return decision, payment
        moved = repo.claim_move(payment, decision, now)
        if moved is not None:
            return decision, moved
        reread = repo.get(payment.id)
        assert reread is not None  # payments are never deleted
        payment = reread


def expire_if_due(session: Session, payment: Payment, now: datetime) -> Payment:
    """A pending link payment whose link ran out is `expired` (a late Stripe success is held)."""
    if not link_ran_out(payment, now):
        return payment
    decision, payment = transition(session, payment, PaymentEvent.LINK_EXPIRED, now)
    if isinstance(decision, Move):
        audit_payment(session, "payment_expired", payment, at=now, actor="system", detail={})
    return payment


class PaymentUseCase:
    """The parts every payment use case is built from."""

    def __init__(self, sessions: sessionmaker[Session], gateway: PaymentGateway, *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.clock = clock

    async def plan_customer(self, plan_id: str, account_id: str) -> str:
        """The plan's Stripe customer, created once (Stripe key `customer-{plan_id}`)."""
        customer_id = await self.gateway.create_customer(account_id=account_id, idempotency_key=f"customer-{plan_id}")

        def store() -> str:
            with self.sessions.begin() as session:
                return PlanRepository(session).set_customer(plan_id, customer_id)

        return await asyncio.to_thread(store)
