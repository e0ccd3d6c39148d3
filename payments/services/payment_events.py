"""Stripe's word on a payment (webhooks are the source of truth), and what a move does to the
money: `apply_event` applies the domain's decision to the payment, the account, the plan and, for a
settlement's last payment, closes the account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.names import ExternalIntent
from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.plan_repository import PlanRepository
from payments.adapters.repositories import AccountRepository, AuditLog
from payments.domain.accounts import AccountStatus
from payments.domain.compliance import HandoffReason
from payments.domain.money import Money
from payments.domain.payment import (
    Decision,
    Hold,
    Move,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    keeps_card,
)
from payments.domain.plan import InstallmentEvent, Plan, PlanEvent, installment_after, plan_after
from payments.domain.settlement import Balances, credit, settle, settlement_paid
from payments.domain.standing import Purpose
from payments.services.clock import Clock
from payments.services.handoffs import HandoffService
from payments.services.notifications import enqueue_rasa_intent
from payments.services.payment_use_case import PaymentUseCase, audit_payment, transition
from payments.services.ports import PaymentIntentEvent

log = logging.getLogger(__name__)

# Stripe event type → what it says happened to the payment.
STRIPE_EVENTS = {
    "payment_intent.succeeded": PaymentEvent.SUCCEEDED,
    "payment_intent.payment_failed": PaymentEvent.FAILED,
    "payment_intent.processing": PaymentEvent.PROCESSING,
    "payment_intent.canceled": PaymentEvent.CANCELED,
}

# Log lines that need a person: alerting greps for this marker (fixed, never reworded).
ALERT = "SECURITY-ALERT"


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the payment changed state
    DUPLICATE = "duplicate"  # this event id was handled before
    IGNORED = "ignored"  # not ours, not a type we act on, or stale (no change)
    REJECTED = "rejected"  # contradicts what we stored (intent, amount, currency): an alert, no change
    HELD = "held"  # a success for an expired payment: recorded for a person, not applied


@dataclass(frozen=True)
class Applied:
    """What `apply_event` did: the domain's decision, the payment after it, and the audit detail
    of the money it moved."""

    decision: Decision
    payment: Payment
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        return isinstance(self.decision, Move)

    @property
    def overpaid_cents(self) -> int:
        return int(self.detail.get("overpaid_cents") or 0)


def apply_event(
    session: Session,
    payment: Payment,
    event: PaymentEvent,
    now: datetime,
    *,
    actor: str,
    failure_code: str | None = None,
    customer_id: str | None = None,
    payment_method_id: str | None = None,
) -> Applied:
    """Apply `event` to the payment as the domain decides: a move is audited (`payment_<status>`),
    a success credits the account and the plan (once: only the move to `succeeded` does), and a
    success or failure is told to the payment's conversation. A hold changes nothing here."""
    decision, payment = transition(session, payment, event, now, failure_code=failure_code)
    if not isinstance(decision, Move):
        return Applied(decision, payment)
    if decision.late:
        log.warning("payment %s succeeded at Stripe after it was %s", payment.id, decision.was.value)
    detail: dict[str, Any] = {
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "method": payment.method.value,
        "previous_status": decision.was.value,
    }
    target = decision.to
    plans = PlanRepository(session)
    if decision.applies_money:
        detail |= _credit_account(session, payment)
        plan = plans.get(payment.plan_id, for_update=True) if payment.plan_id else None
        if plan is not None:
            _credit_plan(session, plan, payment, customer_id, payment_method_id, now, actor)
            detail |= _close_if_settled(session, payment, now, actor)
    elif target is PaymentStatus.FAILED or target is PaymentStatus.CANCELED:
        detail["failure_code"] = payment.failure_code
        if target is PaymentStatus.FAILED and payment.installment_id is not None:
            _move_installment(plans, payment.installment_id, InstallmentEvent.FAILED)
    audit_payment(session, f"payment_{target.value}", payment, at=now, actor=actor, detail=detail)
    if payment.conversation_id and target in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        enqueue_rasa_intent(
            session,
            conversation_id=payment.conversation_id,
            channel=payment.channel,
            intent=ExternalIntent.PAYMENT_SUCCEEDED
            if target is PaymentStatus.SUCCEEDED
            else ExternalIntent.PAYMENT_FAILED,
            entities={
                "payment_id": payment.id,
                "amount_cents": payment.amount_cents,
                "currency": payment.currency,
                # Only on the payment that closed a settlement, so the bot can say so.
                **({"account_settled": True} if detail.get("account_settled") else {}),
            },
            dedupe_key=f"payment-{payment.id}-{target.value}",
            now=now,
            account_id=payment.account_id,
            # The answer to the customer's own payment: sent at once, even to a paused account.
            purpose=Purpose.NOTICE,
        )
    return Applied(decision, payment, detail)


def _move_installment(plans: PlanRepository, installment_id: int, event: InstallmentEvent) -> None:
    found = plans.installment_in_plan(installment_id)
    if found is None:
        return
    after = installment_after(found[1].status, event)
    if after is not None:
        plans.set_installment_status(installment_id, after)


def _credit_account(session: Session, payment: Payment) -> dict[str, Any]:
    accounts = AccountRepository(session)
    account = accounts.get(payment.account_id, for_update=True)
    if account is None:  # pragma: no cover - a foreign key guarantees it
        return {}
    credited = credit(
        Balances(account.balance.amount_cents, account.past_due.amount_cents, account.minimum_due.amount_cents),
        account.status,
        payment.amount_cents,
    )
    after = credited.after
    # Paying the past due brings the account current (DESIGN.md, plan policy).
    accounts.set_balances(account.id, after, status=credited.status if credited.status is not account.status else None)
    detail: dict[str, Any] = {
        "balance_before_cents": credited.before.balance_cents,
        "balance_after_cents": after.balance_cents,
        "past_due_after_cents": after.past_due_cents,
    }
    if credited.overpaid_cents:
        # Money that arrived beyond the balance (a late payment on a settled account): owed back.
        detail["overpaid_cents"] = credited.overpaid_cents
        log.warning(
            "payment %s paid %d cents beyond the balance of %s",
            payment.id,
            credited.overpaid_cents,
            payment.account_id,
        )
    return detail


def _credit_plan(
    session: Session,
    plan: Plan,
    payment: Payment,
    customer_id: str | None,
    payment_method_id: str | None,
    now: datetime,
    actor: str,
) -> None:
    plans = PlanRepository(session)
    keep = keeps_card(
        payment,
        plan_has_card=plan.stripe_payment_method_id is not None,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
    )
    if keep:
        # The card was confirmed with setup_future_usage=off_session: keep it for the plan.
        plans.keep_card(plan.id, customer_id, payment_method_id)
        audit_payment(session, "plan_payment_method_saved", payment, at=now, actor=actor, detail={"plan_id": plan.id})
    if payment.installment_id is not None:
        _move_installment(plans, payment.installment_id, InstallmentEvent.PAID)
    # Completing a plan whose installments are all paid is the scheduler's (services/scheduler.py),
    # except a settlement, which closes the account at once (`_close_if_settled`).


def _close_if_settled(session: Session, payment: Payment, now: datetime, actor: str) -> dict[str, Any]:
    """The last payment of a settlement plan closes the account as settled: balance, past due
    and minimum due to zero, the forgiven remainder in the audit trail, the plan completed, and
    every other pending payment of the account cancelled."""
    plans, accounts = PlanRepository(session), AccountRepository(session)
    plan = plans.get(payment.plan_id) if payment.plan_id else None  # read again: the installment was just paid
    completed = plan_after(plan.status, PlanEvent.SETTLE) if plan else None
    if plan is None or completed is None:
        return {}
    if not settlement_paid(plan.settles_balance, (i.status for i in plan.installments)):
        return {}
    account = accounts.get(payment.account_id, for_update=True)
    assert account is not None  # a foreign key guarantees it
    closed = settle(
        Balances(account.balance.amount_cents, account.past_due.amount_cents, account.minimum_due.amount_cents)
    )
    accounts.set_balances(account.id, closed.balances, status=AccountStatus.SETTLED)
    plans.end(plan.id, completed, now)
    audit_payment(
        session,
        "account_settled",
        payment,
        at=now,
        actor=actor,
        detail={
            "plan_id": plan.id,
            "paid_cents": sum(i.amount_cents for i in plan.installments),
            "forgiven_cents": closed.forgiven_cents,
            "currency": payment.currency,
            "status_before": account.status.value,
        },
    )
    AuditLog(session).record(
        "plan_completed",
        at=now,
        actor=actor,
        channel=plan.channel,
        account_id=plan.account_id,
        detail={"plan_id": plan.id, "settled": True},
    )
    for other in PaymentRepository(session).for_account(payment.account_id, 50):
        if other.id == payment.id:
            continue
        decision, other = transition(session, other, PaymentEvent.ACCOUNT_SETTLED, now)
        if isinstance(decision, Move):
            audit_payment(
                session, "payment_canceled", other, at=now, actor="system", detail={"reason": "account_settled"}
            )
    return {"account_settled": True, "forgiven_cents": closed.forgiven_cents}


class PaymentEvents(PaymentUseCase):
    """Verified Stripe webhook events, applied once."""

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
        now = self.clock()
        with self.sessions.begin() as session:
            repo = PaymentRepository(session)
            if not repo.mark_event_handled(event.id, event.type, now):
                return EventOutcome.DUPLICATE
            what = STRIPE_EVENTS.get(event.type)
            if what is None:
                return EventOutcome.IGNORED
            payment = (
                repo.by_payment_intent(event.payment_intent_id, for_update=True) if event.payment_intent_id else None
            )
            if payment is None and event.payment_id:
                named = repo.get(event.payment_id, for_update=True)
                if named is None:
                    log.info("Stripe event %s (%s) is for no payment of ours", event.id, event.type)
                    return EventOutcome.IGNORED
                # Off-session and <Pay> charges can be settled by the webhook before we stored the id.
                if named.payment_intent_id is not None or named.method is PaymentMethod.LINK:
                    return self._reject(session, named, event, "payment_intent_mismatch")
                payment = named
            if payment is None:
                log.info("Stripe event %s (%s) is for no payment of ours", event.id, event.type)
                return EventOutcome.IGNORED
            if event.amount_cents != payment.amount_cents or (event.currency or "").upper() != payment.currency.upper():
                return self._reject(session, payment, event, "amount_or_currency_mismatch")
            if payment.payment_intent_id is None and event.payment_intent_id:
                payment = repo.store_intent(payment.id, event.payment_intent_id, now)
            applied = apply_event(
                session,
                payment,
                what,
                now,
                actor="stripe",
                failure_code=event.failure_code,
                customer_id=event.customer_id,
                payment_method_id=event.payment_method_id,
            )
            if isinstance(applied.decision, Hold):
                hold_late_success(
                    session, applied.payment, now, event_id=event.id, payment_intent=event.payment_intent_id
                )
        return after_event(self.sessions, self.clock, applied)

    def _reject(self, session: Session, payment: Payment, event: PaymentIntentEvent, why: str) -> EventOutcome:
        """Audit and alert on an event that contradicts the stored payment; change nothing else."""
        audit_payment(
            session,
            "stripe_event_rejected",
            payment,
            at=self.clock(),
            actor="stripe",
            detail={
                "event_id": event.id,
                "event_type": event.type,
                "why": why,
                "event_payment_intent": event.payment_intent_id,
                "stored_payment_intent": payment.payment_intent_id,
                "event_amount_cents": event.amount_cents,
                "event_currency": event.currency,
            },
        )
        log.error("%s Stripe event %s (%s) rejected for payment %s: %s", ALERT, event.id, event.type, payment.id, why)
        return EventOutcome.REJECTED


def hold_late_success(
    session: Session, payment: Payment, now: datetime, *, event_id: str | None, payment_intent: str | None
) -> None:
    """Record a success that must not be applied (audit alert); the case follows the transaction."""
    audit_payment(
        session,
        "payment_late_success_held",
        payment,
        at=now,
        actor="stripe",
        detail={
            "status": payment.status.value,
            "event_id": event_id,
            "payment_intent": payment_intent,
            "amount_cents": payment.amount_cents,
            "currency": payment.currency,
        },
    )
    log.error(
        "%s payment %s succeeded at Stripe after it was %s: held for a person to refund or apply",
        ALERT,
        payment.id,
        payment.status,
    )


def after_event(sessions: sessionmaker[Session], clock: Clock, applied: Applied) -> EventOutcome:
    """After the payment's transaction: a case for a person when the money needs one."""
    payment = applied.payment
    if isinstance(applied.decision, Hold):
        _money_case(
            sessions,
            clock,
            payment,
            f"Stripe charged {Money(payment.amount_cents, payment.currency).display()} for payment {payment.id} after it "
            f"was {payment.status}. It was not applied to the balance: refund it in Stripe, or apply it by hand.",
            {"payment_id": payment.id, "late_success": True},
        )
        return EventOutcome.HELD
    if applied.overpaid_cents:
        # Money beyond the balance (a link paid after the account settled): owed back, so a
        # person refunds it; never left as a silent credit.
        _money_case(
            sessions,
            clock,
            payment,
            f"Stripe charged {Money(applied.overpaid_cents, payment.currency).display()} more than the balance "
            f"with payment {payment.id}. Refund that part in Stripe.",
            {"payment_id": payment.id, "overpaid_cents": applied.overpaid_cents},
        )
    return EventOutcome.APPLIED if applied.moved else EventOutcome.IGNORED


def _money_case(
    sessions: sessionmaker[Session], clock: Clock, payment: Payment, summary: str, context: dict[str, object]
) -> None:
    """A handoff case for money only a person can put right (after the payment's transaction)."""
    HandoffService(sessions, clock=clock).create(
        conversation_id=payment.conversation_id or f"payment-{payment.id}",
        channel=payment.channel,
        reason=HandoffReason.OTHER,
        verified=False,
        account_id=payment.account_id,
        summary=summary,
        context=context,
    )
