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
from payments.adapters.orm import PaymentRow, PlanRow
from payments.adapters.payment_repository import PaymentRepository
from payments.adapters.repositories import AuditLog
from payments.domain.accounts import AccountStatus
from payments.domain.compliance import HandoffReason
from payments.domain.money import Money
from payments.domain.payment import Decision, Hold, Move, PaymentEvent, PaymentMethod, PaymentStatus, keeps_card
from payments.domain.plan import InstallmentEvent, PlanEvent, installment_after, plan_after
from payments.domain.settlement import Balances, credit, settle, settlement_paid
from payments.domain.standing import Purpose
from payments.services.clock import Clock
from payments.services.handoffs import HandoffService
from payments.services.notifications import enqueue_rasa_intent
from payments.services.payment_rows import PaymentUseCase, audit_payment, payment_of, transition
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
    """What `apply_event` did: the domain's decision, and the audit detail of the money it moved."""

    decision: Decision
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        return isinstance(self.decision, Move)

    @property
    def overpaid_cents(self) -> int:
        return int(self.detail.get("overpaid_cents") or 0)


def apply_event(
    session: Session,
    row: PaymentRow,
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
    decision = transition(session, row, event, now, failure_code=failure_code)
    if not isinstance(decision, Move):
        return Applied(decision)
    if decision.late:
        log.warning("payment %s succeeded at Stripe after it was %s", row.id, decision.was.value)
    detail: dict[str, Any] = {
        "amount_cents": row.amount_cents,
        "currency": row.currency,
        "method": row.method,
        "previous_status": decision.was.value,
    }
    target = decision.to
    if decision.applies_money:
        detail |= _credit_account(session, row)
        if row.plan_id:
            repo = PaymentRepository(session)
            _credit_plan(
                session, repo.plan(row.plan_id, for_update=True), row, customer_id, payment_method_id, now, actor
            )
            detail |= _close_if_settled(session, row, now, actor)
    elif target is PaymentStatus.FAILED or target is PaymentStatus.CANCELED:
        detail["failure_code"] = row.failure_code
        if target is PaymentStatus.FAILED and row.installment_id is not None:
            installment = PaymentRepository(session).installment(row.installment_id)
            if installment is not None:
                installment.status = (
                    installment_after(installment.status, InstallmentEvent.FAILED) or installment.status
                )
    audit_payment(session, f"payment_{target.value}", row, at=now, actor=actor, detail=detail)
    if row.conversation_id and target in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        enqueue_rasa_intent(
            session,
            conversation_id=row.conversation_id,
            channel=row.channel,
            intent=ExternalIntent.PAYMENT_SUCCEEDED
            if target is PaymentStatus.SUCCEEDED
            else ExternalIntent.PAYMENT_FAILED,
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
    return Applied(decision, detail)


def _credit_account(session: Session, row: PaymentRow) -> dict[str, Any]:
    account = PaymentRepository(session).account(row.account_id, for_update=True)
    if account is None:  # pragma: no cover - a foreign key guarantees it
        return {}
    credited = credit(
        Balances(account.balance_cents, account.past_due_cents, account.minimum_due_cents),
        AccountStatus(account.status),
        row.amount_cents,
    )
    after = credited.after
    account.balance_cents, account.past_due_cents, account.minimum_due_cents = (
        after.balance_cents,
        after.past_due_cents,
        after.minimum_due_cents,
    )
    if credited.status.value != account.status:
        # Paying the past due brings the account current (DESIGN.md, plan policy).
        account.status, account.delinquent_since = credited.status.value, None
    detail: dict[str, Any] = {
        "balance_before_cents": credited.before.balance_cents,
        "balance_after_cents": after.balance_cents,
        "past_due_after_cents": after.past_due_cents,
    }
    if credited.overpaid_cents:
        # Money that arrived beyond the balance (a late payment on a settled account): owed back.
        detail["overpaid_cents"] = credited.overpaid_cents
        log.warning(
            "payment %s paid %d cents beyond the balance of %s", row.id, credited.overpaid_cents, row.account_id
        )
    return detail


def _credit_plan(
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
    keep = keeps_card(
        payment_of(row),
        plan_has_card=plan.stripe_payment_method_id is not None,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
    )
    if keep:
        # The card was confirmed with setup_future_usage=off_session: keep it for the plan.
        plan.stripe_customer_id = plan.stripe_customer_id or customer_id
        plan.stripe_payment_method_id = payment_method_id
        audit_payment(session, "plan_payment_method_saved", row, at=now, actor=actor, detail={"plan_id": plan.id})
    if row.installment_id is not None:
        installment = PaymentRepository(session).installment(row.installment_id)
        if installment is not None:
            installment.status = installment_after(installment.status, InstallmentEvent.PAID) or installment.status
    # Completing a plan whose installments are all paid is the scheduler's (services/scheduler.py),
    # except a settlement, which closes the account at once (`_close_if_settled`).


def _close_if_settled(session: Session, row: PaymentRow, now: datetime, actor: str) -> dict[str, Any]:
    """The last payment of a settlement plan closes the account as settled: balance, past due
    and minimum due to zero, the forgiven remainder in the audit trail, the plan completed, and
    every other pending payment of the account cancelled."""
    repo = PaymentRepository(session)
    plan = repo.plan(row.plan_id) if row.plan_id else None
    completed = plan_after(plan.status, PlanEvent.SETTLE) if plan else None
    if plan is None or completed is None:
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
    plan.status, plan.ended_at = completed.value, now
    audit = AuditLog(session)
    audit_payment(
        session,
        "account_settled",
        row,
        at=now,
        actor=actor,
        detail={
            "plan_id": plan.id,
            "paid_cents": sum(i.amount_cents for i in plan.installments),
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
    for other in repo.for_account(row.account_id, 50):
        if other.id != row.id and isinstance(transition(session, other, PaymentEvent.ACCOUNT_SETTLED, now), Move):
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
            applied = apply_event(
                session,
                row,
                what,
                now,
                actor="stripe",
                failure_code=event.failure_code,
                customer_id=event.customer_id,
                payment_method_id=event.payment_method_id,
            )
            if isinstance(applied.decision, Hold):
                hold_late_success(session, row, now, event_id=event.id, payment_intent=event.payment_intent_id)
        return after_event(self.sessions, self.clock, row, applied)

    def _reject(self, session: Session, row: PaymentRow, event: PaymentIntentEvent, why: str) -> EventOutcome:
        """Audit and alert on an event that contradicts the stored payment; change nothing else."""
        audit_payment(
            session,
            "stripe_event_rejected",
            row,
            at=self.clock(),
            actor="stripe",
            detail={
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


def hold_late_success(
    session: Session, row: PaymentRow, now: datetime, *, event_id: str | None, payment_intent: str | None
) -> None:
    """Record a success that must not be applied (audit alert); the case follows the transaction."""
    audit_payment(
        session,
        "payment_late_success_held",
        row,
        at=now,
        actor="stripe",
        detail={
            "status": row.status,
            "event_id": event_id,
            "payment_intent": payment_intent,
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


def after_event(sessions: sessionmaker[Session], clock: Clock, row: PaymentRow, applied: Applied) -> EventOutcome:
    """After the payment's transaction: a case for a person when the money needs one."""
    if isinstance(applied.decision, Hold):
        _money_case(
            sessions,
            clock,
            row,
            f"Stripe charged {Money(row.amount_cents, row.currency).display()} for payment {row.id} after it "
            f"was {row.status}. It was not applied to the balance: refund it in Stripe, or apply it by hand.",
            {"payment_id": row.id, "late_success": True},
        )
        return EventOutcome.HELD
    if applied.overpaid_cents:
        # Money beyond the balance (a link paid after the account settled): owed back, so a
        # person refunds it; never left as a silent credit.
        _money_case(
            sessions,
            clock,
            row,
            f"Stripe charged {Money(applied.overpaid_cents, row.currency).display()} more than the balance "
            f"with payment {row.id}. Refund that part in Stripe.",
            {"payment_id": row.id, "overpaid_cents": applied.overpaid_cents},
        )
    return EventOutcome.APPLIED if applied.moved else EventOutcome.IGNORED


def _money_case(
    sessions: sessionmaker[Session], clock: Clock, row: PaymentRow, summary: str, context: dict[str, object]
) -> None:
    """A handoff case for money only a person can put right (after the payment's transaction)."""
    HandoffService(sessions, clock=clock).create(
        conversation_id=row.conversation_id or f"payment-{row.id}",
        channel=row.channel,
        reason=HandoffReason.OTHER,
        verified=False,
        account_id=row.account_id,
        summary=summary,
        context=context,
    )
