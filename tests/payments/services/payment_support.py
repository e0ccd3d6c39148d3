"""Helpers of the payment use-case tests: Stripe events as the webhook gives them, an opened page,
rows to assert on, and plans set up directly in the database."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from payments.adapters.orm import (
    AccountRow,
    AuditEventRow,
    InstallmentRow,
    PaymentRow,
    PlanRow,
)
from payments.services.payment_events import EventOutcome
from payments.services.ports import PaymentIntentEvent

PUBLIC = "https://pay.example.test"


def token_of(link_url: str) -> str:
    assert link_url.startswith(f"{PUBLIC}/pay/")
    return link_url.rsplit("/", 1)[1]


def event(
    kind: str,
    payment_id: str,
    intent_id: str | None,
    *,
    event_id: str | None = None,
    amount: int = 9500,
    failure_code: str | None = None,
    customer: str | None = None,
    method: str | None = None,
) -> PaymentIntentEvent:
    return PaymentIntentEvent(
        id=event_id or f"evt_{kind}_{payment_id}",
        type=f"payment_intent.{kind}",
        payment_intent_id=intent_id,
        payment_id=payment_id,
        amount_cents=amount,
        currency="USD",
        customer_id=customer,
        payment_method_id=method,
        failure_code=failure_code,
    )


def page_opened(sessions, payment_id: str, intent_id: str) -> str:
    """What opening the payment page does for the webhook: the payment's PaymentIntent is stored."""
    with sessions.begin() as session:
        session.get(PaymentRow, payment_id).stripe_payment_intent_id = intent_id
    return intent_id


def account_row(sessions, account_id: str) -> AccountRow:
    with sessions() as session:
        return session.get(AccountRow, account_id)


def count(sessions, query) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(query.subquery()))


def add_plan(
    sessions,
    clock,
    *,
    account_id="A1001",
    amounts=(10000, 10000, 11000),
    card=False,
    conversation_id=None,
    channel="sms",
) -> tuple[str, list[int]]:
    now = clock()
    with sessions.begin() as session:
        plan = PlanRow(
            id="PLN-TEST22",
            account_id=account_id,
            offer_id="installments_3",
            kind="installments",
            status="active",
            currency="USD",
            total_cents=sum(amounts),
            channel=channel,
            conversation_id=conversation_id,
            consent_text="I agree to these three payments.",
            idempotency_key="plan-key",
            created_at=now,
            stripe_customer_id="cus_saved" if card else None,
            stripe_payment_method_id="pm_saved" if card else None,
        )
        plan.installments = [
            InstallmentRow(
                seq=i + 1, due_date=date(2026, 3, 10) + timedelta(days=30 * i), amount_cents=a, status="scheduled"
            )
            for i, a in enumerate(amounts)
        ]
        session.add(plan)
        session.flush()
        return plan.id, [i.id for i in plan.installments]


def settlement_plan(sessions, clock, amounts, *, account_id="A1002", card=False) -> tuple[str, list[int]]:
    """A settlement plan (settles_balance) on the charged-off demo account A1002 ($640.50)."""
    plan_id, ids = add_plan(sessions, clock, account_id=account_id, amounts=amounts, card=card)
    with sessions.begin() as session:
        plan = session.get(PlanRow, plan_id)
        plan.offer_id, plan.kind, plan.settles_balance = "settlement_3", "settlement_installments", True
    return plan_id, ids


def succeed(service, sessions, account_id, amount, plan_id, installment_id, key):  # type: ignore[no-untyped-def]
    created = service.create_payment(account_id, amount, "sms", key, plan_id=plan_id, installment_id=installment_id)
    pid = created.payment.id
    intent = page_opened(sessions, pid, f"pi_{key}")
    assert service.handle_stripe_event(event("succeeded", pid, intent, amount=amount)) == EventOutcome.APPLIED
    return pid


def audit(sessions, kind: str) -> list[AuditEventRow]:
    with sessions() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.kind == kind)))
