"""The account's standing (contract C4), for the API and in-process callers alike: the scheduler
before a reminder or a charge, the outbox before each attempt, the console before an agent writes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.compliance_repository import ReportRepository
from payments.adapters.orm import PlanRow, PromiseRow
from payments.adapters.repositories import AccountRepository
from payments.domain.errors import NotFound, PolicyRefused
from payments.domain.money import Money
from payments.domain.plan import InstallmentStatus, PlanStatus, PromiseStatus
from payments.domain.standing import (
    ActivePlan,
    NextInstallment,
    PendingPromise,
    Standing,
    compute_standing,
    plan_kind,
)

PLAN_IN_FORCE = PlanStatus.in_force_values()
OPEN_INSTALLMENT = (InstallmentStatus.SCHEDULED.value, InstallmentStatus.FAILED.value)


def standing_in(session: Session, account_id: str) -> Standing:
    """The standing read inside the caller's session (`NotFound` for an unknown account)."""
    account = AccountRepository(session).get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return compute_standing(
        account,
        pending_reports=ReportRepository(session).pending_kinds(account_id),
        active_plan=_active_plan(session, account_id),
        pending_promise=_pending_promise(session, account_id),
    )


def refuse_unless_collectable(session: Session, account_id: str) -> None:
    """The one check before money is asked for (a payment, a plan, a promise, a charge): any
    pause reason of the standing (a flag, a pending report from anyone, a settled account)
    refuses with `PolicyRefused("collection_paused")`."""
    reasons = standing_in(session, account_id).pause_reasons
    if reasons:
        raise PolicyRefused("collection_paused", f"collection is paused on this account ({reasons[0].value})")


def _active_plan(session: Session, account_id: str) -> ActivePlan | None:
    plan = session.scalar(
        select(PlanRow)
        .where(PlanRow.account_id == account_id, PlanRow.status.in_(PLAN_IN_FORCE))
        .order_by(PlanRow.created_at.desc())
        .limit(1)
    )
    if plan is None:
        return None
    due = next((i for i in plan.installments if i.status in OPEN_INSTALLMENT), None)  # ordered by seq
    return ActivePlan(
        plan_id=plan.id,
        kind=plan_kind(plan.kind),
        status="suspended" if plan.status == PlanStatus.SUSPENDED else "active",
        next_installment=NextInstallment(Money(due.amount_cents, plan.currency), due.due_date) if due else None,
    )


def _pending_promise(session: Session, account_id: str) -> PendingPromise | None:
    promise = session.scalar(
        select(PromiseRow)
        .where(PromiseRow.account_id == account_id, PromiseRow.status == PromiseStatus.PENDING.value)
        .order_by(PromiseRow.due_date, PromiseRow.created_at)
        .limit(1)
    )
    if promise is None:
        return None
    return PendingPromise(promise.id, Money(promise.amount_cents, promise.currency), promise.due_date)


class StandingService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def standing(self, account_id: str) -> Standing:
        """`collection_allowed`, `pause_reasons`, the plan and promise in force, and
        `may(medium, purpose)` for what each medium may carry now."""
        with self.sessions() as session:
            return standing_in(session, account_id)
