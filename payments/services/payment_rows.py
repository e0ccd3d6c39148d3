"""What every payment use case shares: the stored rows as the domain sees them, the audit
record of a payment, and the one way a stored payment changes state (`transition`: the domain
decides, a compare-and-set in the database makes it happen once).

The use cases (DESIGN.md, payments) are split by what they serve: `payment_links` (creating and
reading payments, their links and their expiry), `pay_page` (the customer's page),
`payment_events` (Stripe's word on a payment, and what a success does to the money) and
`charges` (<Pay> tokens and off-session installment charges). Each public method owns its
transactions. Methods that talk to Stripe are coroutines: they never hold a database
transaction open across a Stripe call (their database work runs in a worker thread, in short
transactions before and after the call).

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

from payments.adapters.orm import PaymentRow
from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.repositories import AuditLog
from payments.domain.money import Money
from payments.domain.payment import (
    Decision,
    Move,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    decide,
    link_ran_out,
)
from payments.services.clock import Clock, utc_now
from payments.services.ports import PaymentGateway


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def payment_of(row: PaymentRow) -> Payment:
    return Payment(
        id=row.id,
        account_id=row.account_id,
        amount=Money(row.amount_cents, row.currency),
        status=PaymentStatus(row.status),
        method=PaymentMethod(row.method),
        channel=row.channel,
        conversation_id=row.conversation_id,
        plan_id=row.plan_id,
        installment_id=row.installment_id,
        failure_code=row.failure_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        link_expires_at=row.link_expires_at,
        payment_intent_id=row.stripe_payment_intent_id,
        save_card=row.save_card,
    )


def audit_payment(
    session: Session, kind: str, row: PaymentRow, *, at: datetime, actor: str, detail: dict[str, Any]
) -> None:
    """An audit event about one payment, on its account, channel and conversation."""
    AuditLog(session).record(
        kind,
        at=at,
        actor=actor,
        channel=row.channel,
        account_id=row.account_id,
        conversation_id=row.conversation_id,
        detail={"payment_id": row.id, **detail},
    )


def transition(
    session: Session, row: PaymentRow, event: PaymentEvent, now: datetime, *, failure_code: str | None = None
) -> Decision:
    """Ask the domain what `event` does to the stored payment and, for a move, make it: a
    compare-and-set in the database, so of two concurrent callers one wins (the loser decides
    again from the state the winner left). Stamps `updated_at`, and `completed_at` on a final
    state; the failure code is the decision's."""
    repo = PaymentRepository(session)
    while True:
        decision = decide(row.status, event, method=row.method, failure_code=failure_code)
        if not isinstance(decision, Move):
            return decision
        if repo.claim_transition(row, row.status, decision.to.value):
            break
    row.updated_at = now
    if decision.completes:
        row.completed_at = now
        row.failure_code = decision.failure_code
    return decision


def expire_if_due(session: Session, row: PaymentRow, now: datetime) -> None:
    """A pending link payment whose link ran out is `expired` (a late Stripe success is held)."""
    if link_ran_out(payment_of(row), now) and isinstance(
        transition(session, row, PaymentEvent.LINK_EXPIRED, now), Move
    ):
        audit_payment(session, "payment_expired", row, at=now, actor="system", detail={})


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
                plan = PaymentRepository(session).plan(plan_id, for_update=True)
                assert plan is not None
                if plan.stripe_customer_id is None:
                    plan.stripe_customer_id = customer_id
                return plan.stripe_customer_id

        return await asyncio.to_thread(store)
