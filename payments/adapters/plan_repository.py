"""Plans, their installments and promises as the domain sees them (`plan_of`, `promise_of`),
and the reads that return them. Works inside the caller's session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments.adapters.orm import InstallmentRow, PlanRow, PromiseRow
from payments.domain.money import Money
from payments.domain.plan import Installment, InstallmentStatus, Plan, PlanStatus, Promise, PromiseStatus


def installment_of(row: InstallmentRow, currency: str) -> Installment:
    return Installment(row.id, row.seq, row.due_date, Money(row.amount_cents, currency), InstallmentStatus(row.status))


def plan_of(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        account_id=row.account_id,
        offer_id=row.offer_id,
        kind=row.kind,
        status=PlanStatus(row.status),
        total=Money(row.total_cents, row.currency),
        settles_balance=row.settles_balance,
        channel=row.channel,
        conversation_id=row.conversation_id,
        consent_text=row.consent_text,
        consent_at=row.consent_at,
        consent_source=row.consent_source,
        created_at=row.created_at,
        ended_at=row.ended_at,
        installments=tuple(installment_of(i, row.currency) for i in row.installments),
        stripe_customer_id=row.stripe_customer_id,
        stripe_payment_method_id=row.stripe_payment_method_id,
    )


def promise_of(row: PromiseRow) -> Promise:
    return Promise(
        id=row.id,
        account_id=row.account_id,
        amount=Money(row.amount_cents, row.currency),
        due_date=row.due_date,
        status=PromiseStatus(row.status),
        channel=row.channel,
        conversation_id=row.conversation_id,
        created_at=row.created_at,
    )


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_account(self, account_id: str) -> list[Plan]:
        """The account's plans, newest first."""
        rows = self.session.scalars(
            select(PlanRow).where(PlanRow.account_id == account_id).order_by(PlanRow.created_at.desc())
        )
        return [plan_of(r) for r in rows]

    def promises_of(self, account_id: str) -> list[Promise]:
        """The account's promises, newest first."""
        rows = self.session.scalars(
            select(PromiseRow).where(PromiseRow.account_id == account_id).order_by(PromiseRow.created_at.desc())
        )
        return [promise_of(r) for r in rows]
